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
 * External functions and the service the lti-badges tool uses.
 *
 * The service is created when the plugin is installed: pairing then only needs a user, a role
 * and a token. Keep the list in step with \local_ltibadges\local\contract::service_functions().
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'local_ltibadges_get_course_facts' => [
        'classname' => 'local_ltibadges\external\get_course_facts',
        'methodname' => 'execute',
        'description' => 'Whole-course facts for badges: enrolled users, grade items, grades, activity and course '
            . 'completions, one page of users at a time.',
        'type' => 'read',
        'capabilities' => 'local/ltibadges:readcoursefacts, moodle/course:viewparticipants, moodle/grade:viewall, '
            . 'report/progress:view, report/completion:view',
        'ajax' => false,
    ],
];

$services = [
    'LTI badges connector' => [
        'shortname' => 'local_ltibadges',
        'functions' => [
            'local_ltibadges_get_course_facts',
            'core_webservice_get_site_info',
            'core_course_get_courses_by_field',
            'core_course_get_contents',
            'core_enrol_get_enrolled_users',
            'gradereport_user_get_grade_items',
            'core_completion_get_activities_completion_status',
            'core_completion_get_course_completion_status',
            'mod_assign_get_grades',
            'core_grades_get_gradeitems',
        ],
        'restrictedusers' => 1,
        'enabled' => 1,
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
];
