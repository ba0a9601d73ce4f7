<?php
// A tiny test runner: every function test_* in tests/*_test.php is a test; an uncaught
// exception or a failed check fails it. Prints one line per test and exits 1 on any failure.
require_once(__DIR__ . '/bootstrap.php');

final class check_failed extends Exception {
}

function check_same($expected, $actual, string $what = ''): void {
    if ($expected !== $actual) {
        throw new check_failed(($what ? "$what: " : '') . 'expected ' . var_export($expected, true)
            . ', got ' . var_export($actual, true));
    }
}

function check_true($value, string $what = ''): void {
    check_same(true, $value, $what);
}

function check_throws(string $class, callable $fn, string $what = ''): void {
    try {
        $fn();
    } catch (Throwable $e) {
        if ($e instanceof $class) {
            return;
        }
        throw new check_failed(($what ? "$what: " : '') . "expected $class, got " . get_class($e) . ': ' . $e->getMessage());
    }
    throw new check_failed(($what ? "$what: " : '') . "expected $class, nothing was thrown");
}

$only = $argv[1] ?? '';
$before = get_defined_functions()['user'];
foreach (glob(__DIR__ . '/tests/*_test.php') as $file) {
    require_once($file);
}
$tests = array_values(array_filter(array_diff(get_defined_functions()['user'], $before), function ($name) use ($only) {
    return strpos($name, 'test_') === 0 && ($only === '' || strpos($name, $only) !== false);
}));
sort($tests);
$failed = 0;
foreach ($tests as $test) {
    try {
        $test();
        echo "ok $test\n";
    } catch (Throwable $e) {
        $failed++;
        echo "FAIL $test: " . get_class($e) . ': ' . $e->getMessage() . ' (' . basename($e->getFile()) . ':' . $e->getLine() . ")\n";
    }
}
echo count($tests) . " tests, $failed failed\n";
exit($failed || !$tests ? 1 : 0);
