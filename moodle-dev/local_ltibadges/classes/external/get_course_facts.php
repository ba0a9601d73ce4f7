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
 * External function local_ltibadges_get_course_facts.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\external;

defined('MOODLE_INTERNAL') || die();

// Moodle 4.1 has the external API as global classes in lib/externallib.php; 4.2+ in core_external.
if (!class_exists('core_external\external_api')) {
    global $CFG;
    require_once($CFG->libdir . '/externallib.php');
    foreach (['external_api', 'external_function_parameters', 'external_value', 'external_single_structure',
            'external_multiple_structure'] as $classname) {
        class_alias($classname, 'core_external\\' . $classname);
    }
}

use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_ltibadges\local\contract;
use local_ltibadges\local\course_facts;
use local_ltibadges\local\paging;

/**
 * Whole-course facts for badges, one page of enrolled users at a time.
 *
 * One call replaces, for a page of users, the per-student calls of the core functions (grade
 * report, activity completion, course completion), with the capability checks of the reports
 * that show the same data.
 */
class get_course_facts extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'since' => new external_value(PARAM_INT,
                'Keep only grades and completions modified at or after this unix time (0: all)', VALUE_DEFAULT, 0),
            'page' => new external_value(PARAM_INT, 'Page of enrolled users, from 0', VALUE_DEFAULT, 0),
            'perpage' => new external_value(PARAM_INT,
                'Users per page (at most ' . contract::MAX_PERPAGE . ')', VALUE_DEFAULT, contract::DEFAULT_PERPAGE),
            'userid' => new external_value(PARAM_INT, 'Only this user (0: every enrolled user)', VALUE_DEFAULT, 0),
        ]);
    }

    /**
     * Reads one page of facts.
     *
     * @param int $courseid course id
     * @param int $since unix time, 0 for everything
     * @param int $page page, from 0
     * @param int $perpage users per page
     * @param int $userid one user, 0 for all
     * @return array see execute_returns()
     */
    public static function execute(int $courseid, int $since = 0, int $page = 0,
            int $perpage = contract::DEFAULT_PERPAGE, int $userid = 0): array {
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid, 'since' => $since, 'page' => $page, 'perpage' => $perpage, 'userid' => $userid,
        ]);
        if ($params['courseid'] == SITEID) {
            throw new \invalid_parameter_exception('courseid is the site, not a course');
        }
        if ($params['since'] < 0 || $params['userid'] < 0) {
            throw new \invalid_parameter_exception('since and userid must be 0 or more');
        }
        try {
            $paging = new paging($params['page'], $params['perpage']);
        } catch (\InvalidArgumentException $e) {
            throw new \invalid_parameter_exception($e->getMessage());
        }

        $context = \context_course::instance($params['courseid']);
        self::validate_context($context);
        // What the participants page, the grader report, the activity completion report and the
        // course completion report require, plus the plugin's own capability.
        require_capability(contract::CAP_READCOURSEFACTS, $context);
        require_capability('moodle/course:viewparticipants', $context);
        require_capability('moodle/grade:viewall', $context);
        require_capability('report/progress:view', $context);
        require_capability('report/completion:view', $context);

        $reader = new course_facts($context, has_capability('moodle/site:viewuseridentity', $context));
        return $reader->read($params['since'], $paging, $params['userid']);
    }

    /**
     * Returned structure (the contract shared with the tool).
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        $int = function (string $desc): external_value {
            return new external_value(PARAM_INT, $desc, VALUE_REQUIRED, null, NULL_NOT_ALLOWED);
        };
        $text = function (string $desc): external_value {
            return new external_value(PARAM_RAW, $desc, VALUE_REQUIRED, null, NULL_NOT_ALLOWED);
        };
        $float = function (string $desc): external_value {
            return new external_value(PARAM_FLOAT, $desc, VALUE_REQUIRED, null, NULL_NOT_ALLOWED);
        };
        $bool = function (string $desc): external_value {
            return new external_value(PARAM_BOOL, $desc, VALUE_REQUIRED, null, NULL_NOT_ALLOWED);
        };
        return new external_single_structure([
            'courseid' => $int('Course id'),
            'since' => $int('The since parameter of the call'),
            'servertime' => $int('Time the read started: the next call\'s since'),
            'page' => $int('Page'),
            'perpage' => $int('Users per page, after lowering to the maximum'),
            'totalusers' => $int('Enrolled users matching the call, on all pages'),
            'hasmore' => $bool('Whether a next page exists'),
            'users' => new external_multiple_structure(new external_single_structure([
                'id' => $int('User id (the LTI sub)'),
                'idnumber' => $text('ID number'),
                'email' => $text('Email, empty without moodle/site:viewuseridentity'),
                'firstname' => $text('First name'),
                'lastname' => $text('Last name'),
                'fullname' => $text('Full name, as the site shows it'),
                'roles' => new external_multiple_structure($text('Role short name'), 'Roles in the course'),
                'status' => $text('active, or suspended (user suspended or no active enrolment)'),
                'timemodified' => $int('Last change of the user record'),
            ]), 'The page\'s users, ordered by id'),
            'gradeitems' => new external_multiple_structure(new external_single_structure([
                'id' => $int('Grade item id'),
                'itemname' => $text('Name'),
                'itemtype' => $text('mod, manual, category or course'),
                'itemmodule' => $text('Module name, empty if none'),
                'iteminstance' => $int('Module instance or category id'),
                'cmid' => $int('Course module id, 0 if none'),
                'grademax' => $float('Maximum grade'),
                'grademin' => $float('Minimum grade'),
                'gradepass' => $float('Grade to pass'),
                'hidden' => $bool('Hidden from learners now'),
            ]), 'Every grade item of the course'),
            'grades' => new external_multiple_structure(new external_single_structure([
                'itemid' => $int('Grade item id'),
                'userid' => $int('User id'),
                'finalgrade' => new external_value(PARAM_FLOAT, 'Final grade; null if none or hidden from the learner',
                    VALUE_REQUIRED, null, NULL_ALLOWED),
                'grademax' => $float('Maximum grade of the item'),
                'timemodified' => $int('Last change'),
            ]), 'Grades of the page\'s users'),
            'completions' => new external_multiple_structure(new external_single_structure([
                'cmid' => $int('Course module id'),
                'userid' => $int('User id'),
                'state' => $int('0 incomplete, 1 complete, 2 complete pass, 3 complete fail'),
                'timemodified' => $int('Last change'),
            ]), 'Activity completions of the page\'s users'),
            'activities' => new external_multiple_structure(new external_single_structure([
                'cmid' => $int('Course module id'),
                'modname' => $text('Module name'),
                'name' => $text('Activity name'),
                'completion' => $int('Completion tracking: 0 none, 1 manual, 2 automatic'),
            ]), 'Every activity of the course'),
            'coursecompletions' => new external_multiple_structure(new external_single_structure([
                'userid' => $int('User id'),
                'timecompleted' => $int('Time of course completion, 0 if not completed'),
            ]), 'Course completions of the page\'s users'),
        ]);
    }
}
