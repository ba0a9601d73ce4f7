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
 * Reads the facts of one course for local_ltibadges_get_course_facts.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * Whole-course reads, one page of enrolled users at a time.
 *
 * Memory stays flat whatever the course size: every per-user query streams a recordset limited
 * to the page's user id range, and nothing is kept but the page's rows. The grade report is
 * never built (it loads every user and item at once).
 */
class course_facts {
    /** @var \context_course */
    private $context;

    /** @var int */
    private $courseid;

    /** @var bool Whether emails may be shown. */
    private $showemail;

    /**
     * Constructor.
     *
     * @param \context_course $context the course context (already validated)
     * @param bool $showemail whether the caller may see email addresses
     */
    public function __construct(\context_course $context, bool $showemail) {
        $this->context = $context;
        $this->courseid = (int) $context->instanceid;
        $this->showemail = $showemail;
    }

    /**
     * Reads one page.
     *
     * @param int $since unix time; 0 for everything
     * @param paging $paging page and size
     * @param int $userid one user, or 0 for all
     * @return array the structure of get_course_facts::execute_returns()
     */
    public function read(int $since, paging $paging, int $userid): array {
        $servertime = time();
        $modinfo = get_fast_modinfo($this->courseid);

        [$users, $totalusers] = $this->users($paging, $userid);
        $range = paging::id_range(array_keys($users));
        $result = [
            'courseid' => $this->courseid,
            'since' => $since,
            'servertime' => $servertime,
            'page' => $paging->page,
            'perpage' => $paging->perpage,
            'totalusers' => $totalusers,
            'hasmore' => $userid ? false : $paging->hasmore($totalusers),
            'users' => array_values($users),
            'gradeitems' => $this->gradeitems($modinfo, $servertime),
            'grades' => [],
            'completions' => [],
            'activities' => $this->activities($modinfo),
            'coursecompletions' => [],
        ];
        if ($range !== null) {
            $result['grades'] = $this->grades($users, $range, $since, $servertime);
            $result['completions'] = $this->completions($users, $range, $since);
            $result['coursecompletions'] = $this->coursecompletions($users, $range, $since);
        }
        return $result;
    }

    /**
     * The page's enrolled users (suspended ones too), ordered by id, and how many there are in all.
     *
     * @param paging $paging page and size
     * @param int $userid one user, or 0 for all
     * @return array [array of users keyed by id, total]
     */
    private function users(paging $paging, int $userid): array {
        global $DB;
        [$enrolledsql, $enrolledparams] = get_enrolled_sql($this->context, '', 0, false);
        [$activesql, $activeparams] = get_enrolled_sql($this->context, '', 0, true);
        $namefields = \core_user\fields::for_name()->get_sql('u', true, '', '', true)->selects;
        $where = 'u.deleted = 0';
        $params = $enrolledparams;
        if ($userid) {
            $where .= ' AND u.id = :ltibadgesuserid';
            $params['ltibadgesuserid'] = $userid;
        }
        $total = (int) $DB->count_records_sql(
            "SELECT COUNT(u.id) FROM {user} u JOIN ($enrolledsql) je ON je.id = u.id WHERE $where", $params);

        $sql = "SELECT u.id, u.idnumber, u.email, u.suspended, u.timemodified $namefields,
                       CASE WHEN ae.id IS NULL THEN 0 ELSE 1 END AS activeenrolment
                  FROM {user} u
                  JOIN ($enrolledsql) je ON je.id = u.id
             LEFT JOIN ($activesql) ae ON ae.id = u.id
                 WHERE $where
              ORDER BY u.id";
        $users = [];
        $rs = $DB->get_recordset_sql($sql, $params + $activeparams, $paging->offset(), $paging->perpage);
        foreach ($rs as $record) {
            $active = empty($record->suspended) && !empty($record->activeenrolment);
            $users[(int) $record->id] = [
                'id' => (int) $record->id,
                'idnumber' => (string) $record->idnumber,
                'email' => $this->showemail ? (string) $record->email : '',
                'firstname' => (string) $record->firstname,
                'lastname' => (string) $record->lastname,
                'fullname' => fullname($record, true),
                'roles' => [],
                'status' => $active ? 'active' : 'suspended',
                'timemodified' => (int) $record->timemodified,
            ];
        }
        $rs->close();

        $range = paging::id_range(array_keys($users));
        if ($range !== null) {
            $rs = $DB->get_recordset_sql(
                "SELECT ra.id, ra.userid, r.shortname
                   FROM {role_assignments} ra
                   JOIN {role} r ON r.id = ra.roleid
                  WHERE ra.contextid = :contextid AND ra.userid BETWEEN :minid AND :maxid
               ORDER BY ra.userid, r.sortorder",
                ['contextid' => $this->context->id, 'minid' => $range[0], 'maxid' => $range[1]]);
            foreach ($rs as $record) {
                $id = (int) $record->userid;
                if (isset($users[$id]) && !in_array($record->shortname, $users[$id]['roles'], true)) {
                    $users[$id]['roles'][] = (string) $record->shortname;
                }
            }
            $rs->close();
        }
        return [$users, $total];
    }

    /**
     * Every grade item of the course.
     *
     * @param \course_modinfo $modinfo the course's modules
     * @param int $now current time (for "hidden until")
     * @return array
     */
    private function gradeitems(\course_modinfo $modinfo, int $now): array {
        global $DB;
        $items = [];
        $rs = $DB->get_recordset_sql(
            "SELECT gi.id, gi.itemname, gi.itemtype, gi.itemmodule, gi.iteminstance, gi.grademax, gi.grademin,
                    gi.gradepass, gi.hidden, gc.fullname AS categoryname
               FROM {grade_items} gi
          LEFT JOIN {grade_categories} gc ON gi.itemtype = 'category' AND gc.id = gi.iteminstance
              WHERE gi.courseid = :courseid
           ORDER BY gi.sortorder, gi.id",
            ['courseid' => $this->courseid]);
        foreach ($rs as $record) {
            $cmid = 0;
            if ($record->itemtype === 'mod' && !empty($record->itemmodule)
                    && isset($modinfo->instances[$record->itemmodule][$record->iteminstance])) {
                $cmid = (int) $modinfo->instances[$record->itemmodule][$record->iteminstance]->id;
            }
            if ($record->itemtype === 'course') {
                $name = get_string('coursetotal', 'grades');
            } else if ($record->itemtype === 'category') {
                $name = (string) $record->categoryname;
            } else {
                $name = (string) $record->itemname;
            }
            $items[] = [
                'id' => (int) $record->id,
                'itemname' => $name,
                'itemtype' => (string) $record->itemtype,
                'itemmodule' => (string) $record->itemmodule,
                'iteminstance' => (int) $record->iteminstance,
                'cmid' => $cmid,
                'grademax' => (float) $record->grademax,
                'grademin' => (float) $record->grademin,
                'gradepass' => (float) $record->gradepass,
                'hidden' => paging::is_hidden((int) $record->hidden, $now),
            ];
        }
        $rs->close();
        return $items;
    }

    /**
     * Grades of the page's users.
     *
     * @param array $users the page's users, keyed by id
     * @param int[] $range [lowest id, highest id]
     * @param int $since unix time; 0 for everything
     * @param int $now current time (for "hidden until")
     * @return array
     */
    private function grades(array $users, array $range, int $since, int $now): array {
        global $DB;
        $sql = "SELECT gg.id, gg.itemid, gg.userid, gg.finalgrade, gg.hidden, gi.grademax,
                       COALESCE(gg.timemodified, gg.timecreated, 0) AS changed
                  FROM {grade_grades} gg
                  JOIN {grade_items} gi ON gi.id = gg.itemid
                 WHERE gi.courseid = :courseid AND gg.userid BETWEEN :minid AND :maxid";
        $params = ['courseid' => $this->courseid, 'minid' => $range[0], 'maxid' => $range[1]];
        if ($since > 0) {
            $sql .= ' AND COALESCE(gg.timemodified, gg.timecreated, 0) >= :since';
            $params['since'] = $since;
        }
        $sql .= ' ORDER BY gg.userid, gg.itemid';
        $grades = [];
        $rs = $DB->get_recordset_sql($sql, $params);
        foreach ($rs as $record) {
            if (!isset($users[(int) $record->userid])) {
                continue;
            }
            // A grade hidden from the learner must not earn a badge: an award would reveal it.
            $hidden = paging::is_hidden((int) $record->hidden, $now);
            $grades[] = [
                'itemid' => (int) $record->itemid,
                'userid' => (int) $record->userid,
                'finalgrade' => ($record->finalgrade === null || $hidden) ? null : (float) $record->finalgrade,
                'grademax' => (float) $record->grademax,
                'timemodified' => (int) $record->changed,
            ];
        }
        $rs->close();
        return $grades;
    }

    /**
     * Activity completions of the page's users.
     *
     * @param array $users the page's users, keyed by id
     * @param int[] $range [lowest id, highest id]
     * @param int $since unix time; 0 for everything
     * @return array
     */
    private function completions(array $users, array $range, int $since): array {
        global $DB;
        $sql = "SELECT cmc.id, cmc.coursemoduleid, cmc.userid, cmc.completionstate, cmc.timemodified
                  FROM {course_modules_completion} cmc
                  JOIN {course_modules} cm ON cm.id = cmc.coursemoduleid
                 WHERE cm.course = :courseid AND cmc.userid BETWEEN :minid AND :maxid";
        $params = ['courseid' => $this->courseid, 'minid' => $range[0], 'maxid' => $range[1]];
        if ($since > 0) {
            $sql .= ' AND cmc.timemodified >= :since';
            $params['since'] = $since;
        }
        $sql .= ' ORDER BY cmc.userid, cmc.coursemoduleid';
        $completions = [];
        $rs = $DB->get_recordset_sql($sql, $params);
        foreach ($rs as $record) {
            if (!isset($users[(int) $record->userid])) {
                continue;
            }
            $completions[] = [
                'cmid' => (int) $record->coursemoduleid,
                'userid' => (int) $record->userid,
                'state' => (int) $record->completionstate,
                'timemodified' => (int) $record->timemodified,
            ];
        }
        $rs->close();
        return $completions;
    }

    /**
     * Course completions of the page's users: every user when since is 0 (timecompleted 0 when
     * not completed), else only those completed at or after since.
     *
     * @param array $users the page's users, keyed by id
     * @param int[] $range [lowest id, highest id]
     * @param int $since unix time; 0 for everything
     * @return array
     */
    private function coursecompletions(array $users, array $range, int $since): array {
        global $DB;
        $sql = "SELECT cc.id, cc.userid, cc.timecompleted
                  FROM {course_completions} cc
                 WHERE cc.course = :courseid AND cc.userid BETWEEN :minid AND :maxid";
        $params = ['courseid' => $this->courseid, 'minid' => $range[0], 'maxid' => $range[1]];
        if ($since > 0) {
            $sql .= ' AND cc.timecompleted >= :since';
            $params['since'] = $since;
        }
        $completed = [];
        $rs = $DB->get_recordset_sql($sql, $params);
        foreach ($rs as $record) {
            if (isset($users[(int) $record->userid])) {
                $completed[(int) $record->userid] = (int) $record->timecompleted;
            }
        }
        $rs->close();
        $result = [];
        foreach (array_keys($users) as $id) {
            if (isset($completed[$id]) || $since == 0) {
                $result[] = ['userid' => $id, 'timecompleted' => $completed[$id] ?? 0];
            }
        }
        return $result;
    }

    /**
     * Every activity of the course (those being deleted left out).
     *
     * @param \course_modinfo $modinfo the course's modules
     * @return array
     */
    private function activities(\course_modinfo $modinfo): array {
        $activities = [];
        foreach ($modinfo->get_cms() as $cm) {
            if (!empty($cm->deletioninprogress)) {
                continue;
            }
            $activities[] = [
                'cmid' => (int) $cm->id,
                'modname' => (string) $cm->modname,
                'name' => (string) $cm->name,
                'completion' => (int) $cm->completion,
            ];
        }
        return $activities;
    }
}
