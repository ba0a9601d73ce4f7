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
 * Privacy API: what the plugin sends to the lti-badges tool.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\privacy;

use core_privacy\local\metadata\collection;

/**
 * The plugin stores no personal data in Moodle; it sends some to the paired tool: the notices
 * (pushed) and the course facts (read by the tool through the web service).
 */
class provider implements \core_privacy\local\metadata\provider {
    /**
     * Describes the data sent to the tool.
     *
     * @param collection $collection the collection to add to
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_external_location_link('lti_badges_tool', [
            'userid' => 'privacy:metadata:tool:userid',
            'courseid' => 'privacy:metadata:tool:courseid',
            'fullname' => 'privacy:metadata:tool:fullname',
            'email' => 'privacy:metadata:tool:email',
            'idnumber' => 'privacy:metadata:tool:idnumber',
            'grades' => 'privacy:metadata:tool:grades',
            'completions' => 'privacy:metadata:tool:completions',
            'enrolments' => 'privacy:metadata:tool:enrolments',
        ], 'privacy:metadata:tool');
        return $collection;
    }
}
