<?php
// Which courses use the tool, on SQLite through moodle_dml_shim.php.
require_once(dirname(__DIR__) . '/moodle_dml_shim.php');

use local_ltibadges\observer;

function observer_db(): shim_database {
    global $DB;
    $DB = new shim_database();
    $DB->exec('CREATE TABLE mdl_lti (id INTEGER PRIMARY KEY, course INTEGER, typeid INTEGER, name TEXT)');
    $DB->insert('lti', [
        ['id' => 1, 'course' => 2, 'typeid' => 1, 'name' => 'Static tool'],
        ['id' => 2, 'course' => 2, 'typeid' => 4, 'name' => 'Badges'],
        ['id' => 3, 'course' => 3, 'typeid' => 7, 'name' => 'Another tool'],
        ['id' => 4, 'course' => 5, 'typeid' => 6, 'name' => 'Badges again'],
        ['id' => 5, 'course' => 5, 'typeid' => 4, 'name' => 'Badges'],
    ]);
    return $DB;
}

function test_observer_paired_deployments(): void {
    check_same(['2', '4'], observer::paired_deployments((object) ['deploymentids' => ' 2, 4 ,']));
    check_same([], observer::paired_deployments((object) []));
}

function test_observer_course_uses_the_tool_through_a_paired_deployment(): void {
    observer_db();
    check_same('4', observer::deployment_for_course(2, ['4', '6'], false), 'course 2 has an activity of type 4');
    check_same('4', observer::deployment_for_course(5, ['6', '4'], false), 'the lowest of several');
    check_same('6', observer::deployment_for_course(5, ['6'], false), 'a single deployment');
    check_same(null, observer::deployment_for_course(3, ['4', '6'], false), 'course 3 uses another tool only');
    check_same(null, observer::deployment_for_course(9, ['4'], false), 'course 9 has no LTI activity');
    check_same('4', observer::deployment_for_course(9, ['4', '6'], true), 'every course: the first deployment');
    check_same(null, observer::deployment_for_course(2, [], true), 'not paired: nothing');
}
