<?php
use local_ltibadges\local\contract;

function test_contract_role_capabilities(): void {
    $caps = contract::role_capabilities();
    check_same(14, count($caps), 'the 13 of MOODLE_SETUP.md and the plugin\'s own');
    check_true(in_array('local/ltibadges:readcoursefacts', $caps, true));
    check_true(in_array('webservice/rest:use', $caps, true));
    check_same(false, in_array('moodle/site:config', $caps, true));
    $sorted = $caps;
    sort($sorted);
    check_same($sorted, $caps, 'sorted');
}

function test_contract_role_capabilities_add_module_views_that_exist(): void {
    $existing = array_merge(contract::role_capabilities(), ['mod/quiz:view', 'mod/forum:view']);
    $caps = contract::role_capabilities(['assign', 'quiz', 'forum', 'label', 'Bad-Name'], $existing);
    check_true(in_array('mod/quiz:view', $caps, true));
    check_true(in_array('mod/forum:view', $caps, true));
    check_same(false, in_array('mod/label:view', $caps, true), 'label defines no view capability');
    check_same(16, count($caps), 'mod/assign:view is not listed twice');
    // A capability unknown to the site (a report plugin uninstalled) is left out, not created.
    $caps = contract::role_capabilities([], array_diff(contract::role_capabilities(), ['report/progress:view']));
    check_same(false, in_array('report/progress:view', $caps, true));
}

function test_contract_service_functions(): void {
    $functions = contract::service_functions();
    check_same('local_ltibadges_get_course_facts', $functions[0]);
    check_same(10, count($functions), 'the plugin\'s function and the nine of MOODLE_SETUP.md');
    check_same(count($functions), count(array_unique($functions)));
}

function test_contract_notice_types(): void {
    check_same('LtiBadgesGradeNotice', contract::notice_type('\core\event\user_graded'));
    check_same('LtiBadgesGradeNotice', contract::notice_type('core\event\user_graded'));
    check_same('LtiBadgesActivityCompletionNotice', contract::notice_type('\core\event\course_module_completion_updated'));
    check_same('LtiBadgesCourseCompletionNotice', contract::notice_type('\core\event\course_completed'));
    foreach (['created', 'updated', 'deleted'] as $what) {
        check_same('LtiBadgesEnrolmentNotice', contract::notice_type('\core\event\user_enrolment_' . $what));
    }
    check_same(null, contract::notice_type('\core\event\user_loggedin'));
}
