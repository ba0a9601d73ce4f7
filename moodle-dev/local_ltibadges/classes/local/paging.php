<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

/**
 * Paging arithmetic of local_ltibadges_get_course_facts (pure PHP: no Moodle API is used here).
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * One page of enrolled users, ordered by user id.
 *
 * The page's grades, completions and course completions are then read for the users whose id
 * lies between the first and the last id of the page (they are enrolled, so exactly the page's
 * users): a range keeps every query at a fixed number of placeholders, whatever the page size.
 */
class paging {
    /** @var int Page number, from 0. */
    public $page;

    /** @var int Users per page, after clamping to contract::MAX_PERPAGE. */
    public $perpage;

    /**
     * Checks and normalises the paging parameters.
     *
     * @param int $page page number, from 0
     * @param int $perpage users per page; above the maximum it is lowered to the maximum
     * @throws \InvalidArgumentException when page is negative or perpage is below 1
     */
    public function __construct(int $page, int $perpage) {
        if ($page < 0) {
            throw new \InvalidArgumentException('page must be 0 or more');
        }
        if ($perpage < 1) {
            throw new \InvalidArgumentException('perpage must be between 1 and ' . contract::MAX_PERPAGE);
        }
        $this->page = $page;
        $this->perpage = min($perpage, contract::MAX_PERPAGE);
    }

    /**
     * Index of the page's first user in the whole ordered list (the SQL limitfrom).
     *
     * @return int
     */
    public function offset(): int {
        return $this->page * $this->perpage;
    }

    /**
     * Whether users remain after this page.
     *
     * @param int $totalusers enrolled users matching the call
     * @return bool
     */
    public function hasmore(int $totalusers): bool {
        return $this->offset() + $this->perpage < $totalusers;
    }

    /**
     * The user id range that holds exactly the page's users.
     *
     * @param int[] $userids ids of the page's users, in any order
     * @return int[]|null [lowest id, highest id], or null for an empty page
     */
    public static function id_range(array $userids): ?array {
        if (!$userids) {
            return null;
        }
        return [(int) min($userids), (int) max($userids)];
    }

    /**
     * Whether a hidden flag of a grade item hides it now (1 = hidden, a time = hidden until then).
     *
     * @param int $hidden grade_items.hidden
     * @param int $now current time
     * @return bool
     */
    public static function is_hidden(int $hidden, int $now): bool {
        return $hidden === 1 || $hidden > $now;
    }
}
