<?php
// \local_ltibadges\local\course_facts run on SQLite through moodle_dml_shim.php: the plugin's SQL,
// paging, since and userid rules on a real SQL engine.
require_once(dirname(__DIR__) . '/moodle_dml_shim.php');
require_once(dirname(__DIR__) . '/core_user/fields.php');

use local_ltibadges\local\course_facts;
use local_ltibadges\local\paging;

const FACTS_COURSE = 2;
const FACTS_CONTEXT = 20;
const FACTS_T = 1795327550;

function facts_schema(): shim_database {
    global $DB;
    $DB = new shim_database();
    $DB->exec('
        CREATE TABLE mdl_user (id INTEGER PRIMARY KEY, username TEXT, idnumber TEXT DEFAULT \'\', email TEXT,
            firstname TEXT, lastname TEXT, firstnamephonetic TEXT, lastnamephonetic TEXT, middlename TEXT,
            alternatename TEXT, suspended INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0, timemodified INTEGER DEFAULT 0);
        CREATE TABLE mdl_enrol (id INTEGER PRIMARY KEY, courseid INTEGER, enrol TEXT, status INTEGER DEFAULT 0);
        CREATE TABLE mdl_user_enrolments (id INTEGER PRIMARY KEY, enrolid INTEGER, userid INTEGER,
            status INTEGER DEFAULT 0, timestart INTEGER DEFAULT 0, timeend INTEGER DEFAULT 0);
        CREATE TABLE mdl_role (id INTEGER PRIMARY KEY, shortname TEXT, sortorder INTEGER);
        CREATE TABLE mdl_role_assignments (id INTEGER PRIMARY KEY, roleid INTEGER, contextid INTEGER, userid INTEGER);
        CREATE TABLE mdl_grade_categories (id INTEGER PRIMARY KEY, courseid INTEGER, fullname TEXT);
        CREATE TABLE mdl_grade_items (id INTEGER PRIMARY KEY, courseid INTEGER, categoryid INTEGER, itemname TEXT,
            itemtype TEXT, itemmodule TEXT, iteminstance INTEGER, grademax NUMERIC DEFAULT 100,
            grademin NUMERIC DEFAULT 0, gradepass NUMERIC DEFAULT 0, hidden INTEGER DEFAULT 0, sortorder INTEGER);
        CREATE TABLE mdl_grade_grades (id INTEGER PRIMARY KEY, itemid INTEGER, userid INTEGER, finalgrade NUMERIC,
            hidden INTEGER DEFAULT 0, timecreated INTEGER, timemodified INTEGER);
        CREATE TABLE mdl_modules (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE mdl_course_modules (id INTEGER PRIMARY KEY, course INTEGER, module INTEGER, instance INTEGER,
            completion INTEGER DEFAULT 0, deletioninprogress INTEGER DEFAULT 0, name TEXT);
        CREATE TABLE mdl_course_modules_completion (id INTEGER PRIMARY KEY, coursemoduleid INTEGER, userid INTEGER,
            completionstate INTEGER, timemodified INTEGER);
        CREATE TABLE mdl_course_completions (id INTEGER PRIMARY KEY, userid INTEGER, course INTEGER,
            timeenrolled INTEGER DEFAULT 0, timestarted INTEGER DEFAULT 0, timecompleted INTEGER);
    ');
    $DB->insert('enrol', [
        ['id' => 1, 'courseid' => FACTS_COURSE, 'enrol' => 'manual', 'status' => 0],
        ['id' => 2, 'courseid' => FACTS_COURSE, 'enrol' => 'self', 'status' => 1],
        ['id' => 3, 'courseid' => 3, 'enrol' => 'manual', 'status' => 0],
    ]);
    $DB->insert('role', [['id' => 3, 'shortname' => 'editingteacher', 'sortorder' => 3],
        ['id' => 5, 'shortname' => 'student', 'sortorder' => 5]]);
    $DB->insert('modules', [['id' => 1, 'name' => 'assign'], ['id' => 2, 'name' => 'page'], ['id' => 3, 'name' => 'lti']]);
    $DB->insert('course_modules', [
        ['id' => 1, 'course' => FACTS_COURSE, 'module' => 1, 'instance' => 1, 'completion' => 2, 'deletioninprogress' => 0, 'name' => 'Essay 1'],
        ['id' => 2, 'course' => FACTS_COURSE, 'module' => 1, 'instance' => 2, 'completion' => 2, 'deletioninprogress' => 0, 'name' => 'Final project'],
        ['id' => 3, 'course' => FACTS_COURSE, 'module' => 2, 'instance' => 1, 'completion' => 1, 'deletioninprogress' => 0, 'name' => 'Welcome'],
        ['id' => 4, 'course' => FACTS_COURSE, 'module' => 3, 'instance' => 1, 'completion' => 2, 'deletioninprogress' => 0, 'name' => 'Badges'],
        ['id' => 5, 'course' => FACTS_COURSE, 'module' => 1, 'instance' => 3, 'completion' => 0, 'deletioninprogress' => 1, 'name' => 'Being deleted'],
        ['id' => 9, 'course' => 3, 'module' => 1, 'instance' => 9, 'completion' => 2, 'deletioninprogress' => 0, 'name' => 'Elsewhere'],
    ]);
    $DB->insert('grade_categories', [['id' => 1, 'courseid' => FACTS_COURSE, 'fullname' => '?'],
        ['id' => 2, 'courseid' => FACTS_COURSE, 'fullname' => 'Homework']]);
    $item = function (int $id, string $type, ?string $name, string $module = '', int $instance = 0, array $more = []): array {
        return array_merge(['id' => $id, 'courseid' => FACTS_COURSE, 'categoryid' => 1, 'itemname' => $name,
            'itemtype' => $type, 'itemmodule' => $module ?: null, 'iteminstance' => $instance, 'grademax' => 100,
            'grademin' => 0, 'gradepass' => 0, 'hidden' => 0, 'sortorder' => $id], $more);
    };
    $DB->insert('grade_items', [
        $item(1, 'course', null, '', 1),
        $item(2, 'mod', 'Essay 1', 'assign', 1, ['gradepass' => 50]),
        $item(3, 'mod', 'Final project', 'assign', 2),
        $item(4, 'mod', 'Badges', 'lti', 1),
        $item(5, 'manual', 'Oral', '', 0, ['grademax' => 20, 'hidden' => 1]),
        $item(6, 'category', null, '', 2),
        $item(7, 'mod', 'Later', 'assign', 2, ['hidden' => 4102444800]),
        $item(8, 'mod', 'Elsewhere', 'assign', 9, ['courseid' => 3]),
    ]);
    return $DB;
}

/** Users 1..$count, with every fifth id not enrolled here (enrolled in course 3), one item grade each. */
function facts_users(shim_database $db, int $count): array {
    $users = $enrolments = $roles = $grades = $completions = $coursecompletions = [];
    $enrolled = [];
    for ($id = 1; $id <= $count; $id++) {
        $users[] = ['id' => $id, 'username' => "u$id", 'idnumber' => "ID$id", 'email' => "u$id@example.invalid",
            'firstname' => "First$id", 'lastname' => "Last$id", 'suspended' => 0, 'deleted' => 0, 'timemodified' => 100 + $id];
        $here = $id % 5 !== 0;
        $enrolments[] = ['id' => $id, 'enrolid' => $here ? 1 : 3, 'userid' => $id, 'status' => 0, 'timestart' => 0, 'timeend' => 0];
        $grades[] = ['id' => $id, 'itemid' => 2, 'userid' => $id, 'finalgrade' => 50 + $id % 50, 'hidden' => 0,
            'timecreated' => FACTS_T, 'timemodified' => FACTS_T + $id];
        $completions[] = ['id' => $id, 'coursemoduleid' => 1, 'userid' => $id, 'completionstate' => 1, 'timemodified' => FACTS_T + $id];
        if ($here) {
            $enrolled[] = $id;
            $roles[] = ['id' => $id, 'roleid' => 5, 'contextid' => FACTS_CONTEXT, 'userid' => $id];
        }
        if ($id % 3 === 0) {
            $coursecompletions[] = ['id' => $id, 'userid' => $id, 'course' => FACTS_COURSE, 'timecompleted' => FACTS_T + $id];
        }
    }
    $db->insert('user', $users);
    $db->insert('user_enrolments', $enrolments);
    $db->insert('role_assignments', $roles);
    $db->insert('grade_grades', $grades);
    $db->insert('course_modules_completion', $completions);
    $db->insert('course_completions', $coursecompletions);
    return $enrolled;
}

function facts_read(int $since = 0, int $page = 0, int $perpage = 500, int $userid = 0): array {
    $reader = new course_facts(new context_course(FACTS_CONTEXT, FACTS_COURSE), true);
    return $reader->read($since, new paging($page, $perpage), $userid);
}

/** A small course with every special case, read whole. */
function test_facts_small_course_whole(): void {
    $db = facts_schema();
    $db->insert('user', [
        ['id' => 3, 'username' => 'teacher1', 'idnumber' => 'TEACHER1', 'email' => 't@example.invalid', 'firstname' => 'Terry', 'lastname' => 'Teacher', 'timemodified' => 10],
        ['id' => 4, 'username' => 'student1', 'idnumber' => 'STUDENT1', 'email' => 's1@example.invalid', 'firstname' => 'Sam', 'lastname' => 'Student', 'timemodified' => 11],
        ['id' => 5, 'username' => 'student2', 'idnumber' => '', 'email' => 's2@example.invalid', 'firstname' => 'Alex', 'lastname' => 'Learner', 'timemodified' => 12],
        ['id' => 6, 'username' => 'outsider', 'idnumber' => '', 'email' => 'o@example.invalid', 'firstname' => 'Out', 'lastname' => 'Sider', 'timemodified' => 13],
        ['id' => 7, 'username' => 'gone', 'idnumber' => '', 'email' => 'g@example.invalid', 'firstname' => 'Gone', 'lastname' => 'User', 'deleted' => 1, 'timemodified' => 14],
        ['id' => 8, 'username' => 'expired', 'idnumber' => '', 'email' => 'e@example.invalid', 'firstname' => 'Ex', 'lastname' => 'Pired', 'timemodified' => 15],
        ['id' => 9, 'username' => 'susp', 'idnumber' => '', 'email' => 'x@example.invalid', 'firstname' => 'Sus', 'lastname' => 'Pended', 'suspended' => 1, 'timemodified' => 16],
        ['id' => 10, 'username' => 'selfonly', 'idnumber' => '', 'email' => 'y@example.invalid', 'firstname' => 'Self', 'lastname' => 'Only', 'timemodified' => 17],
    ]);
    $db->insert('user_enrolments', [
        ['id' => 1, 'enrolid' => 1, 'userid' => 3, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 2, 'enrolid' => 1, 'userid' => 4, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 3, 'enrolid' => 1, 'userid' => 5, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 4, 'enrolid' => 3, 'userid' => 6, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 5, 'enrolid' => 1, 'userid' => 7, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 6, 'enrolid' => 1, 'userid' => 8, 'status' => 0, 'timestart' => 0, 'timeend' => 1000],
        ['id' => 7, 'enrolid' => 1, 'userid' => 9, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 8, 'enrolid' => 2, 'userid' => 10, 'status' => 0, 'timestart' => 0, 'timeend' => 0],
        ['id' => 9, 'enrolid' => 1, 'userid' => 5, 'status' => 1, 'timestart' => 0, 'timeend' => 0],
    ]);
    $db->insert('role_assignments', [
        ['id' => 1, 'roleid' => 3, 'contextid' => FACTS_CONTEXT, 'userid' => 3],
        ['id' => 2, 'roleid' => 5, 'contextid' => FACTS_CONTEXT, 'userid' => 4],
        ['id' => 3, 'roleid' => 5, 'contextid' => FACTS_CONTEXT, 'userid' => 5],
        ['id' => 4, 'roleid' => 3, 'contextid' => FACTS_CONTEXT, 'userid' => 5],
        ['id' => 5, 'roleid' => 5, 'contextid' => 99, 'userid' => 4],
        ['id' => 6, 'roleid' => 5, 'contextid' => FACTS_CONTEXT, 'userid' => 6],
    ]);
    $db->insert('grade_grades', [
        ['id' => 1, 'itemid' => 2, 'userid' => 4, 'finalgrade' => 85.5, 'hidden' => 0, 'timecreated' => FACTS_T, 'timemodified' => FACTS_T + 1],
        ['id' => 2, 'itemid' => 3, 'userid' => 4, 'finalgrade' => 92, 'hidden' => 1, 'timecreated' => FACTS_T, 'timemodified' => FACTS_T + 2],
        ['id' => 3, 'itemid' => 2, 'userid' => 5, 'finalgrade' => null, 'hidden' => 0, 'timecreated' => FACTS_T + 3, 'timemodified' => null],
        ['id' => 4, 'itemid' => 2, 'userid' => 6, 'finalgrade' => 99, 'hidden' => 0, 'timecreated' => FACTS_T, 'timemodified' => FACTS_T],
        ['id' => 5, 'itemid' => 8, 'userid' => 4, 'finalgrade' => 10, 'hidden' => 0, 'timecreated' => FACTS_T, 'timemodified' => FACTS_T],
        ['id' => 6, 'itemid' => 5, 'userid' => 3, 'finalgrade' => 12, 'hidden' => 4102444800, 'timecreated' => FACTS_T, 'timemodified' => FACTS_T + 4],
    ]);
    $db->insert('course_modules_completion', [
        ['id' => 1, 'coursemoduleid' => 1, 'userid' => 4, 'completionstate' => 2, 'timemodified' => FACTS_T + 5],
        ['id' => 2, 'coursemoduleid' => 1, 'userid' => 5, 'completionstate' => 3, 'timemodified' => FACTS_T + 6],
        ['id' => 3, 'coursemoduleid' => 9, 'userid' => 4, 'completionstate' => 1, 'timemodified' => FACTS_T],
        ['id' => 4, 'coursemoduleid' => 1, 'userid' => 6, 'completionstate' => 1, 'timemodified' => FACTS_T],
    ]);
    $db->insert('course_completions', [
        ['id' => 1, 'userid' => 4, 'course' => FACTS_COURSE, 'timecompleted' => FACTS_T + 7],
        ['id' => 2, 'userid' => 5, 'course' => FACTS_COURSE, 'timecompleted' => null],
        ['id' => 3, 'userid' => 6, 'course' => 3, 'timecompleted' => FACTS_T],
    ]);

    $before = time();
    $facts = facts_read();
    check_true($facts['servertime'] >= $before);
    check_same([FACTS_COURSE, 0, 0, 500, 6, false],
        [$facts['courseid'], $facts['since'], $facts['page'], $facts['perpage'], $facts['totalusers'], $facts['hasmore']]);
    check_same([
        ['id' => 3, 'idnumber' => 'TEACHER1', 'email' => 't@example.invalid', 'firstname' => 'Terry', 'lastname' => 'Teacher',
            'fullname' => 'Terry Teacher', 'roles' => ['editingteacher'], 'status' => 'active', 'timemodified' => 10],
        ['id' => 4, 'idnumber' => 'STUDENT1', 'email' => 's1@example.invalid', 'firstname' => 'Sam', 'lastname' => 'Student',
            'fullname' => 'Sam Student', 'roles' => ['student'], 'status' => 'active', 'timemodified' => 11],
        ['id' => 5, 'idnumber' => '', 'email' => 's2@example.invalid', 'firstname' => 'Alex', 'lastname' => 'Learner',
            'fullname' => 'Alex Learner', 'roles' => ['editingteacher', 'student'], 'status' => 'active', 'timemodified' => 12],
        ['id' => 8, 'idnumber' => '', 'email' => 'e@example.invalid', 'firstname' => 'Ex', 'lastname' => 'Pired',
            'fullname' => 'Ex Pired', 'roles' => [], 'status' => 'suspended', 'timemodified' => 15],
        ['id' => 9, 'idnumber' => '', 'email' => 'x@example.invalid', 'firstname' => 'Sus', 'lastname' => 'Pended',
            'fullname' => 'Sus Pended', 'roles' => [], 'status' => 'suspended', 'timemodified' => 16],
        ['id' => 10, 'idnumber' => '', 'email' => 'y@example.invalid', 'firstname' => 'Self', 'lastname' => 'Only',
            'fullname' => 'Self Only', 'roles' => [], 'status' => 'suspended', 'timemodified' => 17],
    ], $facts['users'], 'enrolled users, suspended ones too (expired enrolment, suspended account, enrolment '
        . 'method off), not the outsider (6) nor the deleted (7)');
    $items = array_column($facts['gradeitems'], null, 'id');
    check_same([1, 2, 3, 4, 5, 6, 7], array_keys($items), 'this course\'s items only');
    check_same('[[coursetotal,grades]]', $items[1]['itemname']);
    check_same('Homework', $items[6]['itemname']);
    check_same(['Essay 1', 'mod', 'assign', 1, 1, 100.0, 0.0, 50.0, false], array_values(array_diff_key($items[2], ['id' => 0])));
    check_same(4, $items[4]['cmid']);
    check_same(0, $items[5]['cmid']);
    check_same('', $items[5]['itemmodule']);
    check_same(20.0, $items[5]['grademax']);
    check_true($items[5]['hidden']);
    check_true($items[7]['hidden'], 'hidden until 2100');
    check_same([
        ['itemid' => 5, 'userid' => 3, 'finalgrade' => null, 'grademax' => 20.0, 'timemodified' => FACTS_T + 4],
        ['itemid' => 2, 'userid' => 4, 'finalgrade' => 85.5, 'grademax' => 100.0, 'timemodified' => FACTS_T + 1],
        ['itemid' => 3, 'userid' => 4, 'finalgrade' => null, 'grademax' => 100.0, 'timemodified' => FACTS_T + 2],
        ['itemid' => 2, 'userid' => 5, 'finalgrade' => null, 'grademax' => 100.0, 'timemodified' => FACTS_T + 3],
    ], $facts['grades'], 'hidden grades have no final grade; no grade of another course or of the outsider');
    check_same([
        ['cmid' => 1, 'userid' => 4, 'state' => 2, 'timemodified' => FACTS_T + 5],
        ['cmid' => 1, 'userid' => 5, 'state' => 3, 'timemodified' => FACTS_T + 6],
    ], $facts['completions']);
    check_same([
        ['cmid' => 1, 'modname' => 'assign', 'name' => 'Essay 1', 'completion' => 2],
        ['cmid' => 2, 'modname' => 'assign', 'name' => 'Final project', 'completion' => 2],
        ['cmid' => 3, 'modname' => 'page', 'name' => 'Welcome', 'completion' => 1],
        ['cmid' => 4, 'modname' => 'lti', 'name' => 'Badges', 'completion' => 2],
    ], $facts['activities'], 'not the module being deleted');
    check_same([
        ['userid' => 3, 'timecompleted' => 0], ['userid' => 4, 'timecompleted' => FACTS_T + 7],
        ['userid' => 5, 'timecompleted' => 0], ['userid' => 8, 'timecompleted' => 0], ['userid' => 9, 'timecompleted' => 0],
        ['userid' => 10, 'timecompleted' => 0],
    ], $facts['coursecompletions']);

    // Since: only what changed at or after it; the users are still listed.
    $facts = facts_read(FACTS_T + 3);
    check_same([3, 4, 5, 8, 9, 10], array_column($facts['users'], 'id'));
    check_same([[3, 5], [5, 2]], array_map(function ($g) {
        return [$g['userid'], $g['itemid']];
    }, $facts['grades']), 'a grade with no timemodified counts from its timecreated');
    check_same([4, 5], array_column($facts['completions'], 'userid'));
    check_same([['userid' => 4, 'timecompleted' => FACTS_T + 7]], $facts['coursecompletions']);

    // One user.
    $facts = facts_read(0, 0, 500, 4);
    check_same([4], array_column($facts['users'], 'id'));
    check_same([1, false], [$facts['totalusers'], $facts['hasmore']]);
    check_same([4, 4], array_column($facts['grades'], 'userid'));
    check_same([4], array_column($facts['coursecompletions'], 'userid'));
    $facts = facts_read(0, 0, 500, 6);
    check_same([[], 0, [], [], []], [$facts['users'], $facts['totalusers'], $facts['grades'], $facts['completions'],
        $facts['coursecompletions']], 'a user not enrolled here gets nothing');
    check_same(4, count($facts['activities']), 'activities are on every page');

    // Without moodle/site:viewuseridentity, no emails.
    $reader = new course_facts(new context_course(FACTS_CONTEXT, FACTS_COURSE), false);
    check_same([''], array_values(array_unique(array_column($reader->read(0, new paging(0, 10), 0)['users'], 'email'))));
}

function test_facts_pages_partition_the_enrolled_users(): void {
    $db = facts_schema();
    $enrolled = facts_users($db, 53);
    $seen = [];
    $gradeusers = [];
    $page = 0;
    do {
        $facts = facts_read(0, $page, 7);
        check_same(count($enrolled), $facts['totalusers']);
        $ids = array_column($facts['users'], 'id');
        check_true(count($ids) <= 7);
        $sorted = $ids;
        sort($sorted);
        check_same($sorted, $ids, 'ordered by id');
        foreach (['grades', 'completions', 'coursecompletions'] as $part) {
            check_same([], array_values(array_diff(array_column($facts[$part], 'userid'), $ids)), "$part of page $page");
        }
        check_same(count($ids), count($facts['grades']), 'every page user\'s grade, nobody else\'s');
        check_same(7, count($facts['gradeitems']));
        $seen = array_merge($seen, $ids);
        $gradeusers = array_merge($gradeusers, array_column($facts['grades'], 'userid'));
        $page++;
    } while ($facts['hasmore']);
    check_same($enrolled, $seen, 'every enrolled user on exactly one page');
    check_same($enrolled, $gradeusers);
    check_same(7, $page, '42 users in pages of 7');
    $after = facts_read(0, $page, 7);
    check_same([[], [], false], [$after['users'], $after['grades'], $after['hasmore']], 'past the last page');
}

/** Reads of one page do not grow with the course: same rows and queries for 1,000 or 5,000 learners. */
function test_facts_page_reads_stay_flat_for_5000_learners(): void {
    $rows = [];
    foreach ([1250, 6253] as $count) {
        $db = facts_schema();
        $enrolled = facts_users($db, $count);
        $db->rowsread = 0;
        $db->queries = [];
        $facts = facts_read(0, 1, 500);
        check_same(500, count($facts['users']));
        check_same(array_slice($enrolled, 500, 500), array_column($facts['users'], 'id'));
        $rows[$count] = [$db->rowsread, count($db->queries)];
        if ($count === 6253) {
            check_same(5003, $facts['totalusers']);
            $last = facts_read(0, 10, 500);
            check_same([3, false], [count($last['users']), $last['hasmore']]);
            check_true(facts_read(0, 9, 500)['hasmore']);
        }
    }
    check_same($rows[1250], $rows[6253], 'rows read and queries for page 1: [rows, queries]');
}

function test_facts_shim_enforces_moodle_dml_rules(): void {
    $db = facts_schema();
    check_throws(shim_dml_exception::class, function () use ($db) {
        $db->count_records_sql('SELECT COUNT(1) FROM {user} WHERE id = :a OR id = :a', ['a' => 1]);
    }, 'a named placeholder used twice');
    check_throws(shim_dml_exception::class, function () use ($db) {
        $db->count_records_sql('SELECT COUNT(1) FROM {user} WHERE id = :a', []);
    });
    check_throws(shim_dml_exception::class, function () use ($db) {
        $db->count_records_sql('SELECT COUNT(1) FROM {user} WHERE id = :a', ['a' => 1, 'b' => 2]);
    });
}
