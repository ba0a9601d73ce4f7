<?php
use local_ltibadges\local\url_policy;

function test_url_dev_hosts(): void {
    foreach (['localhost', 'LOCALHOST', 'moodle.localhost', '127.0.0.1', '127.8.9.10', '[::1]', '::1',
            'host.docker.internal', 'tool', 'lti-badges'] as $host) {
        check_true(url_policy::is_dev_host($host), $host);
    }
    foreach (['', 'badges.example.edu', '10.0.0.5', '192.168.1.2', '8.8.8.8', '::2', '[2001:db8::1]',
            'localhost.example.com', 'evil-localhost.com', '128.0.0.1', 'tool.'] as $host) {
        check_same(false, url_policy::is_dev_host($host), $host);
    }
}

function test_url_tool_urls_need_https_except_dev_hosts(): void {
    check_same(null, url_policy::check_tool_url('https://badges.example.edu/lti/notices'));
    check_same(null, url_policy::check_tool_url('http://127.0.0.1:5000/lti/notices'));
    check_same(null, url_policy::check_tool_url('http://tool:5000/lti/notices'));
    check_same('error_url_http', url_policy::check_tool_url('http://badges.example.edu/lti/notices'));
    check_same('error_url_invalid', url_policy::check_tool_url('ftp://badges.example.edu/x'));
    check_same('error_url_invalid', url_policy::check_tool_url('not a url'));
    check_same('error_url_invalid', url_policy::check_tool_url('https://user:pw@badges.example.edu/x'));
    check_same('error_url_invalid', url_policy::check_tool_url('https://badges.example.edu/x#frag'));
}

function test_url_parse_pairing_url(): void {
    $parsed = url_policy::parse_pairing_url('  https://Badges.Example.edu/connectors/moodle/pair/AbC-123_xyz9  ');
    check_same([
        'url' => 'https://Badges.Example.edu/connectors/moodle/pair/AbC-123_xyz9',
        'tool' => 'https://badges.example.edu',
        'code' => 'AbC-123_xyz9',
    ], $parsed);
    // A tool served under a path prefix, on a port.
    $parsed = url_policy::parse_pairing_url('https://lms.example.edu:8443/badges/connectors/moodle/pair/abcdefgh');
    check_same('https://lms.example.edu:8443/badges', $parsed['tool']);
    check_same('abcdefgh', $parsed['code']);
    $parsed = url_policy::parse_pairing_url('http://[::1]:5000/connectors/moodle/pair/abcdefgh');
    check_same('http://[::1]:5000', $parsed['tool']);
}

function test_url_parse_pairing_url_rejects(): void {
    $cases = [
        'http://badges.example.edu/connectors/moodle/pair/abcdefgh' => 'error_url_http',
        'https://badges.example.edu/connectors/moodle/pair/' => 'error_url_notpairing',
        'https://badges.example.edu/connectors/moodle/pair/short' => 'error_url_notpairing',
        'https://badges.example.edu/connectors/moodle/pair/abc/defghijk' => 'error_url_notpairing',
        'https://badges.example.edu/connectors/moodle/pair/abcdefgh?x=1' => 'error_url_notpairing',
        'https://badges.example.edu/connectors/moodle/pair/abc%20defgh' => 'error_url_notpairing',
        'https://badges.example.edu/connectors/canvas/pair/abcdefgh' => 'error_url_notpairing',
        'https://badges.example.edu/' => 'error_url_notpairing',
        '' => 'error_url_invalid',
        'javascript:alert(1)' => 'error_url_invalid',
    ];
    foreach ($cases as $url => $error) {
        check_same($error, url_policy::parse_pairing_url($url), $url);
    }
}
