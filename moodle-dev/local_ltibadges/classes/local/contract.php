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
 * The constants shared with the lti-badges tool (pure PHP: no Moodle API is used here).
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * What the plugin and the tool agreed on: service, functions, capabilities and notice types.
 *
 * Kept free of Moodle calls so that the project's CI can test it with plain PHP.
 */
class contract {
    /** @var string Short name of the external service defined in db/services.php. */
    const SERVICE_SHORTNAME = 'local_ltibadges';

    /** @var string Display name of that service. */
    const SERVICE_NAME = 'LTI badges connector';

    /** @var string Username of the web-service user the pairing creates (or reuses). */
    const SERVICE_USERNAME = 'ltibadgesconnector';

    /** @var string Short name of the system role the pairing creates (or reuses). */
    const ROLE_SHORTNAME = 'ltibadgesconnector';

    /** @var string The plugin's own capability that lets a user read whole-course facts. */
    const CAP_READCOURSEFACTS = 'local/ltibadges:readcoursefacts';

    /** @var int Page size when the caller gives none. */
    const DEFAULT_PERPAGE = 500;

    /** @var int Largest page size (keeps one call's memory and time bounded). */
    const MAX_PERPAGE = 2000;

    /** @var int Lifetime of a notice JWT, in seconds. */
    const NOTICE_LIFETIME = 300;

    /** @var string Claim of the LTI deployment id. */
    const CLAIM_DEPLOYMENT = 'https://purl.imsglobal.org/spec/lti/claim/deployment_id';

    /** @var string Claim of the LTI context. */
    const CLAIM_CONTEXT = 'https://purl.imsglobal.org/spec/lti/claim/context';

    /** @var string Claim of the notice (modelled on the LTI Platform Notification Service). */
    const CLAIM_NOTICE = 'https://purl.imsglobal.org/spec/lti/claim/notice';

    /** @var string Claim that says what changed in Moodle. */
    const CLAIM_CHANGE = 'https://lti-badges.org/claim/change';

    /**
     * The functions of the external service: the plugin's own, then the core ones the tool's
     * connector calls (lti_badges/sources/MOODLE_SETUP.md lists the same nine).
     *
     * @return string[]
     */
    public static function service_functions(): array {
        return [
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
        ];
    }

    /**
     * The capabilities the core functions need (the thirteen of MOODLE_SETUP.md), with why.
     *
     * @return array<string, string> capability => what it is for
     */
    public static function core_capabilities(): array {
        return [
            'webservice/rest:use' => 'use the REST protocol',
            'moodle/course:view' => 'enter courses without being enrolled',
            'moodle/course:viewparticipants' => 'list the participants',
            'moodle/user:viewdetails' => 'see the students in the participant list',
            'moodle/site:viewuseridentity' => 'see email addresses',
            'gradereport/user:view' => 'read the user grade report',
            'moodle/grade:viewall' => 'see other users\' grades',
            'report/progress:view' => 'read activity completion',
            'report/completion:view' => 'read course completion',
            'mod/assign:grade' => 'read assignment grades (mod_assign_get_grades)',
            'mod/assign:view' => 'see assignments at all',
            'mod/lti:view' => 'see External tool activities at all',
            'moodle/site:accessallgroups' => 'see every group in courses with separate groups',
        ];
    }

    /**
     * Exactly the capabilities the connector role gets.
     *
     * A role without archetype silently misses activities whose view capability it lacks, so the
     * view capability of every installed activity module is added, when that capability exists.
     *
     * @param string[] $modnames installed activity modules (e.g. ['assign', 'quiz'])
     * @param string[]|null $existing every capability defined on the site, or null to skip the check
     * @return string[] sorted, without duplicates
     */
    public static function role_capabilities(array $modnames = [], ?array $existing = null): array {
        $caps = array_keys(self::core_capabilities());
        $caps[] = self::CAP_READCOURSEFACTS;
        foreach ($modnames as $modname) {
            if (!preg_match('/^[a-z][a-z0-9_]*$/', $modname)) {
                continue;
            }
            $caps[] = 'mod/' . $modname . ':view';
        }
        if ($existing !== null) {
            $existing = array_flip($existing);
            $caps = array_filter($caps, function (string $cap) use ($existing): bool {
                return isset($existing[$cap]);
            });
        }
        $caps = array_values(array_unique($caps));
        sort($caps);
        return $caps;
    }

    /**
     * The notice type of each observed Moodle event.
     *
     * @return array<string, string> event class name (with its leading backslash, as Moodle's
     *     eventname) => notice type
     */
    public static function notice_types(): array {
        return [
            '\\core\\event\\user_graded' => 'LtiBadgesGradeNotice',
            '\\core\\event\\course_module_completion_updated' => 'LtiBadgesActivityCompletionNotice',
            '\\core\\event\\course_completed' => 'LtiBadgesCourseCompletionNotice',
            '\\core\\event\\user_enrolment_created' => 'LtiBadgesEnrolmentNotice',
            '\\core\\event\\user_enrolment_updated' => 'LtiBadgesEnrolmentNotice',
            '\\core\\event\\user_enrolment_deleted' => 'LtiBadgesEnrolmentNotice',
        ];
    }

    /**
     * The notice type of one event, or null when the plugin does not send that event.
     *
     * @param string $eventname Moodle event class name, with or without the leading backslash
     * @return string|null
     */
    public static function notice_type(string $eventname): ?string {
        $eventname = '\\' . ltrim($eventname, '\\');
        return self::notice_types()[$eventname] ?? null;
    }
}
