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
 * Event observers of local_ltibadges.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges;

use local_ltibadges\local\contract;

/**
 * Queues a notice to the tool when a grade, a completion or an enrolment changes in a course that
 * uses the tool. Sending is left to an ad hoc task, so a slow or absent tool never slows the
 * teacher's page down, and a failed post is retried by the task system.
 */
class observer {
    /**
     * Any observed event.
     *
     * @param \core\event\base $event the event
     */
    public static function changed(\core\event\base $event): void {
        $config = get_config('local_ltibadges');
        if (empty($config->noticesurl) || empty($config->clientid) || !empty($config->disablenotices)) {
            return; // Not paired yet, or switched off.
        }
        if (contract::notice_type($event->eventname) === null) {
            return;
        }
        $courseid = (int) $event->courseid;
        $userid = (int) $event->relateduserid;
        if ($courseid <= SITEID || $userid <= 0) {
            return;
        }
        $deploymentid = self::deployment_for_course($courseid, self::paired_deployments($config),
            !empty($config->allcourses));
        if ($deploymentid === null) {
            return;
        }

        $cmid = null;
        $itemid = null;
        if ($event instanceof \core\event\user_graded) {
            $itemid = (int) ($event->other['itemid'] ?? 0) ?: null;
            $cmid = $itemid ? self::cmid_of_grade_item($itemid, $courseid) : null;
        } else if ($event instanceof \core\event\course_module_completion_updated) {
            $cmid = (int) $event->contextinstanceid;
        }

        $task = new task\send_notice();
        $task->set_component('local_ltibadges');
        $task->set_custom_data([
            'event' => $event->eventname,
            'courseid' => $courseid,
            'userid' => $userid,
            'cmid' => $cmid,
            'itemid' => $itemid,
            'time' => (int) $event->timecreated,
            'deploymentid' => $deploymentid,
        ]);
        \core\task\manager::queue_adhoc_task($task);
    }

    /**
     * The deployments the pairing returned (Moodle's tool type ids).
     *
     * @param \stdClass $config the plugin's config
     * @return string[]
     */
    public static function paired_deployments(\stdClass $config): array {
        $ids = array_filter(array_map('trim', explode(',', (string) ($config->deploymentids ?? ''))), 'strlen');
        return array_values($ids);
    }

    /**
     * The deployment through which a course uses the tool, or null when it does not use it.
     *
     * @param int $courseid course id
     * @param string[] $deploymentids the paired deployments
     * @param bool $allcourses the setting "every course": then a course without the tool's
     *     activity gets the first paired deployment
     * @return string|null
     */
    public static function deployment_for_course(int $courseid, array $deploymentids, bool $allcourses): ?string {
        global $DB;
        $typeids = array_values(array_filter(array_map('intval', $deploymentids)));
        if (!$typeids) {
            return null;
        }
        [$insql, $params] = $DB->get_in_or_equal($typeids, SQL_PARAMS_NAMED, 'ltitype');
        $params['courseid'] = $courseid;
        $typeid = $DB->get_field_sql("SELECT MIN(typeid) FROM {lti} WHERE course = :courseid AND typeid $insql", $params);
        if ($typeid) {
            return (string) $typeid;
        }
        return $allcourses ? (string) $typeids[0] : null;
    }

    /**
     * The course module of a grade item, or null (manual, category and course items).
     *
     * @param int $itemid grade item id
     * @param int $courseid course id
     * @return int|null
     */
    private static function cmid_of_grade_item(int $itemid, int $courseid): ?int {
        global $DB;
        $item = $DB->get_record('grade_items', ['id' => $itemid], 'id, itemtype, itemmodule, iteminstance');
        if (!$item || $item->itemtype !== 'mod' || empty($item->itemmodule)) {
            return null;
        }
        $modinfo = get_fast_modinfo($courseid);
        if (isset($modinfo->instances[$item->itemmodule][$item->iteminstance])) {
            return (int) $modinfo->instances[$item->itemmodule][$item->iteminstance]->id;
        }
        return null;
    }
}
