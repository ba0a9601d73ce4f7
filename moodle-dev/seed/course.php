<?php
// Seeds the demo course of moodle-dev (run inside the moodle container, as www-data):
//   php /seed/course.php
// A teacher, three learners, "Open Badges Pilot" (OBP101) with completion on, two graded
// assignments (Essay 1, pass mark 50; Final project), a Welcome page with manual completion,
// course completion = both assignments complete. Then grades and completions, and the logins.
// Running it again reuses what exists (and sets the same grades again).

define('CLI_SCRIPT', true);
require(getenv('MOODLE_CONFIG') ?: '/var/www/html/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/course/modlib.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->dirroot . '/mod/assign/locallib.php');
require_once($CFG->libdir . '/completionlib.php');
require_once($CFG->dirroot . '/completion/criteria/completion_criteria_activity.php');
require_once($CFG->dirroot . '/completion/completion_aggregation.php');

\core\session\manager::set_user(get_admin());
set_config('enablecompletion', 1);

const SEED_PASSWORD = 'Seed-pass-2026!';

/**
 * A user, created the first time.
 */
function seed_user(string $username, string $firstname, string $lastname): stdClass {
    global $CFG, $DB;
    if ($user = $DB->get_record('user', ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id])) {
        return $user;
    }
    $id = user_create_user((object) [
        'username' => $username, 'password' => SEED_PASSWORD, 'auth' => 'manual', 'confirmed' => 1,
        'mnethostid' => $CFG->mnet_localhost_id, 'firstname' => $firstname, 'lastname' => $lastname,
        'email' => $username . '@example.invalid', 'idnumber' => strtoupper($username),
    ]);
    return $DB->get_record('user', ['id' => $id], '*', MUST_EXIST);
}

/**
 * An activity of the course, created the first time.
 */
function seed_module(stdClass $course, string $modname, string $name, array $settings): cm_info {
    global $DB;
    $moduleid = $DB->get_field('modules', 'id', ['name' => $modname], MUST_EXIST);
    $existing = $DB->get_record_sql("SELECT cm.id FROM {course_modules} cm JOIN {{$modname}} m ON m.id = cm.instance
        WHERE cm.course = ? AND cm.module = ? AND m.name = ?", [$course->id, $moduleid, $name]);
    if (!$existing) {
        $info = (object) array_merge([
            'modulename' => $modname, 'course' => $course->id, 'section' => 1, 'name' => $name, 'visible' => 1,
            'intro' => '', 'introformat' => FORMAT_HTML, 'cmidnumber' => '',
        ], $settings);
        $existing = (object) ['id' => create_module($info)->coursemodule];
    }
    return get_fast_modinfo($course->id, 0, true)->get_cm($existing->id);
}

$teacher = seed_user('teacher1', 'Terry', 'Teacher');
$learners = [seed_user('student1', 'Sam', 'Student'), seed_user('student2', 'Alex', 'Learner'),
    seed_user('student3', 'Camille', 'Martin')];

$course = $DB->get_record('course', ['shortname' => 'OBP101']);
if (!$course) {
    $course = create_course((object) [
        'fullname' => 'Open Badges Pilot', 'shortname' => 'OBP101', 'idnumber' => 'OBP101',
        'category' => \core_course_category::get_default()->id, 'format' => 'topics', 'numsections' => 3,
        'enablecompletion' => 1,
    ]);
}

$manual = enrol_get_plugin('manual');
$instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
$manual->enrol_user($instance, $teacher->id, $DB->get_field('role', 'id', ['shortname' => 'editingteacher']));
foreach ($learners as $learner) {
    $manual->enrol_user($instance, $learner->id, $DB->get_field('role', 'id', ['shortname' => 'student']));
}

$assignsettings = [
    'grade' => 100, 'completion' => COMPLETION_TRACKING_AUTOMATIC, 'completionusegrade' => 1,
    'assignsubmission_onlinetext_enabled' => 1, 'assignfeedback_comments_enabled' => 1,
    'alwaysshowdescription' => 1, 'nosubmissions' => 0, 'submissiondrafts' => 0, 'requiresubmissionstatement' => 0,
    'sendnotifications' => 0, 'sendlatenotifications' => 0, 'sendstudentnotifications' => 0,
    'duedate' => 0, 'cutoffdate' => 0, 'gradingduedate' => 0, 'allowsubmissionsfromdate' => 0,
    'teamsubmission' => 0, 'requireallteammemberssubmit' => 0, 'teamsubmissiongroupingid' => 0,
    'blindmarking' => 0, 'hidegrader' => 0, 'attemptreopenmethod' => 'untilpass', 'maxattempts' => -1,
    'markingworkflow' => 0, 'markingallocation' => 0, 'preventsubmissionnotingroup' => 0, 'completionsubmit' => 0,
];
$essay = seed_module($course, 'assign', 'Essay 1', $assignsettings + ['gradepass' => 50, 'completionpassgrade' => 1]);
$project = seed_module($course, 'assign', 'Final project', $assignsettings);
$welcome = seed_module($course, 'page', 'Welcome', [
    'content' => '<p>Welcome to the Open Badges pilot.</p>', 'contentformat' => FORMAT_HTML, 'display' => 5,
    'printintro' => 0, 'printlastmodified' => 1, 'completion' => COMPLETION_TRACKING_MANUAL,
]);

// Course completion: both assignments complete.
$criterion = new completion_criteria_activity();
$criterion->update_config((object) ['id' => $course->id, 'criteria_activity' => [$essay->id => 1, $project->id => 1]]);
$aggregation = new completion_aggregation(['course' => $course->id, 'criteriatype' => null]);
$aggregation->setMethod(COMPLETION_AGGREGATION_ALL);
$aggregation->save();

// Grades through the assignment, as a teacher's grading would: this raises user_graded and
// course_module_completion_updated, which the plugin turns into notices once it is paired.
$grades = [
    'student1' => [$essay, 85], 'student2' => [$essay, 40], 'student3' => [$essay, 67],
];
$grades2 = ['student1' => [$project, 92]];
foreach ([$grades, $grades2] as $set) {
    foreach ($set as $username => [$cm, $value]) {
        $user = $DB->get_record('user', ['username' => $username], '*', MUST_EXIST);
        $assign = new assign(context_module::instance($cm->id), $cm, $course);
        $grade = $assign->get_user_grade($user->id, true);
        $grade->grade = $value;
        $grade->grader = $teacher->id;
        $assign->update_grade($grade);
    }
}
$completion = new completion_info($course);
$completion->update_state($welcome, COMPLETION_COMPLETE, $learners[0]->id);

cli_writeln("Course: {$CFG->wwwroot}/course/view.php?id={$course->id} (id {$course->id}, OBP101)");
cli_writeln('Logins (password ' . SEED_PASSWORD . '):');
cli_writeln('  teacher1  editing teacher');
foreach ($learners as $learner) {
    cli_writeln("  {$learner->username}  learner (user id {$learner->id})");
}
cli_writeln('Course completion appears after two cron runs (the cron service runs every minute).');
