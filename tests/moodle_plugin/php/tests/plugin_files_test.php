<?php
use local_ltibadges\local\contract;

function plugin_file(string $path): string {
    return LTIBADGES_PLUGIN_DIR . '/' . $path;
}

function test_files_services_match_the_contract(): void {
    $functions = $services = null;
    require(plugin_file('db/services.php'));
    check_same(['local_ltibadges_get_course_facts'], array_keys($functions));
    check_same('local_ltibadges\external\get_course_facts', $functions['local_ltibadges_get_course_facts']['classname']);
    check_same('read', $functions['local_ltibadges_get_course_facts']['type']);
    check_same(1, count($services));
    $service = reset($services);
    check_same(contract::SERVICE_NAME, key($services));
    check_same(contract::SERVICE_SHORTNAME, $service['shortname']);
    check_same(contract::service_functions(), $service['functions']);
    check_same(1, $service['restrictedusers'], 'only the connector user may use it');
    check_same(1, $service['enabled']);
    // Every capability a function declares is one the connector role gets.
    $declared = array_map('trim', explode(',', $functions['local_ltibadges_get_course_facts']['capabilities']));
    check_same([], array_values(array_diff($declared, contract::role_capabilities())));
}

function test_files_capability_definition(): void {
    foreach (['CONTEXT_COURSE' => 50, 'RISK_PERSONAL' => 0x0008, 'CAP_ALLOW' => 1] as $name => $value) {
        if (!defined($name)) {
            define($name, $value);
        }
    }
    $capabilities = null;
    require(plugin_file('db/access.php'));
    check_same([contract::CAP_READCOURSEFACTS], array_keys($capabilities));
    $cap = $capabilities[contract::CAP_READCOURSEFACTS];
    check_same(CONTEXT_COURSE, $cap['contextlevel']);
    check_same('read', $cap['captype']);
    check_same([], $cap['archetypes'], 'no archetype gets it: only the connector role');
}

function test_files_observers_cover_every_notice_type(): void {
    $observers = null;
    require(plugin_file('db/events.php'));
    $events = array_column($observers, 'eventname');
    check_same(array_keys(contract::notice_types()), $events);
    require_once(plugin_file('classes/observer.php'));
    foreach ($observers as $observer) {
        [$class, $method] = explode('::', $observer['callback']);
        check_true(method_exists($class, $method), $observer['callback']);
        check_same(false, $observer['internal'], 'runs after commit');
    }
}

function lang_strings(string $lang): array {
    $string = [];
    require(plugin_file("lang/$lang/local_ltibadges.php"));
    return $string;
}

function test_files_french_and_english_strings_match(): void {
    $en = lang_strings('en');
    $fr = lang_strings('fr');
    check_same(array_keys($en), array_keys($fr), 'same identifiers, same order');
    $keys = array_keys($en);
    $sorted = $keys;
    sort($sorted);
    check_same($sorted, $keys, 'sorted as Moodle asks');
    foreach ($en as $id => $text) {
        preg_match_all('/\{\$a(->\w+)?\}/', $text, $a);
        preg_match_all('/\{\$a(->\w+)?\}/', $fr[$id], $b);
        sort($a[0]);
        sort($b[0]);
        check_same($a[0], $b[0], "placeholders of $id");
        check_same(false, (bool) preg_match('/·/u', $fr[$id]), "no point médian in $id");
    }
}

function test_files_every_string_used_is_defined(): void {
    $en = lang_strings('en');
    $used = [];
    $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator(LTIBADGES_PLUGIN_DIR));
    foreach ($files as $file) {
        if (substr($file, -4) !== '.php') {
            continue;
        }
        $code = file_get_contents($file);
        preg_match_all("/get_string\\('([a-z0-9_:\\/]+)', 'local_ltibadges'/", $code, $m);
        $used = array_merge($used, $m[1]);
        // Error codes reach get_string() through variables: url_policy's and the pairing's.
        preg_match_all("/'(error_url_[a-z]+)'/", $code, $m);
        $used = array_merge($used, $m[1]);
    }
    foreach (\local_ltibadges\local\pairing_protocol::ERROR_CODES as $code) {
        $used[] = 'pairerror_' . $code;
    }
    $used = array_merge($used, ['pairerror_bad_answer', 'pairerror_no_answer', 'pairingurl_help',
        // Moodle names a capability's string after the capability without its "local/" prefix.
        substr(contract::CAP_READCOURSEFACTS, strlen('local/'))]);
    $provider = file_get_contents(plugin_file('classes/privacy/provider.php'));
    preg_match_all("/'(privacy:metadata:[a-z:]+)'/", $provider, $m);
    $used = array_merge($used, $m[1]);
    check_true(count($used) > 30, 'the scan found the strings');
    $missing = array_values(array_diff(array_unique($used), array_keys($en)));
    check_same([], $missing, 'strings used but not defined');
}

function test_files_version(): void {
    $plugin = new stdClass();
    foreach (['MATURITY_BETA' => 100, 'ANY_VERSION' => 'any'] as $name => $value) {
        if (!defined($name)) {
            define($name, $value);
        }
    }
    require(plugin_file('version.php'));
    check_same('local_ltibadges', $plugin->component);
    check_true(is_int($plugin->version) && $plugin->version >= 2026120200);
    check_same(2022112800, $plugin->requires, 'Moodle 4.1');
}

function test_files_have_moodle_header(): void {
    $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator(LTIBADGES_PLUGIN_DIR));
    $count = 0;
    foreach ($files as $file) {
        if (substr($file, -4) !== '.php') {
            continue;
        }
        $count++;
        $code = file_get_contents($file);
        check_same(0, strpos($code, "<?php\n// This file is part of Moodle - https://moodle.org/\n"), (string) $file);
        check_true(strpos($code, 'GNU General Public License') !== false, (string) $file);
        check_true(strpos($code, '@package    local_ltibadges') !== false, "@package in $file");
    }
    check_true($count >= 20, "found $count PHP files");
}
