<?php
use local_ltibadges\local\contract;
use local_ltibadges\local\pairing_protocol;

function test_pairing_request_body(): void {
    $body = json_decode(pairing_protocol::request_body('https://moodle.example.edu', 'tok123', 2026120200,
        '5.0.6+ (Build: 20260403)', contract::service_functions()), true);
    check_same(['site_url', 'token', 'service', 'plugin_version', 'moodle_release', 'functions'], array_keys($body));
    check_same('https://moodle.example.edu', $body['site_url']);
    check_same('tok123', $body['token']);
    check_same('local_ltibadges', $body['service']);
    check_same(2026120200, $body['plugin_version']);
    check_same('5.0.6+ (Build: 20260403)', $body['moodle_release']);
    check_same(contract::service_functions(), $body['functions']);
}

function paired_answer(array $change = []): string {
    return json_encode(array_merge([
        'status' => 'paired', 'platform_id' => 3, 'connector_id' => 7, 'client_id' => 'kgDDY3FUnq3wN3I',
        'deployment_ids' => ['1', '2'], 'notices_url' => 'https://badges.example.edu/lti/notices',
        'issuer' => 'https://moodle.example.edu',
    ], $change));
}

function test_pairing_response_paired(): void {
    $answer = pairing_protocol::parse_response(200, paired_answer(), 'https://moodle.example.edu');
    check_true($answer['ok']);
    check_same('kgDDY3FUnq3wN3I', $answer['client_id']);
    check_same(['1', '2'], $answer['deployment_ids']);
    check_same('https://badges.example.edu/lti/notices', $answer['notices_url']);
    check_same(3, $answer['platform_id']);
    check_same(7, $answer['connector_id']);
}

function test_pairing_response_errors_keep_the_tools_message(): void {
    foreach (pairing_protocol::ERROR_CODES as $code) {
        $answer = pairing_protocol::parse_response(400, json_encode(['error' => $code, 'message' => "text $code"]),
            'https://moodle.example.edu');
        check_same(['ok' => false, 'error' => $code, 'message' => "text $code"], $answer);
    }
    $answer = pairing_protocol::parse_response(410, json_encode(['error' => 'whatever', 'message' => 'm']), 'x');
    check_same('bad_answer', $answer['error']);
    $answer = pairing_protocol::parse_response(502, '<html>Bad gateway</html>', 'x');
    check_same(['ok' => false, 'error' => 'bad_answer', 'message' => 'HTTP 502'], $answer);
    check_same('no_answer', pairing_protocol::parse_response(0, '', 'x')['error']);
}

function test_pairing_response_incomplete_or_unsafe(): void {
    $site = 'https://moodle.example.edu';
    $bad = [
        ['status' => 'pending'],
        ['client_id' => ''],
        ['deployment_ids' => []],
        ['deployment_ids' => [2]],
        ['notices_url' => 'http://badges.example.edu/lti/notices'],
        ['notices_url' => null],
    ];
    foreach ($bad as $change) {
        $answer = pairing_protocol::parse_response(200, paired_answer($change), $site);
        check_same(false, $answer['ok'], json_encode($change));
        check_same('bad_answer', $answer['error'], json_encode($change));
    }
    $answer = pairing_protocol::parse_response(200, paired_answer(['issuer' => 'https://other.example.edu']), $site);
    check_same('site_mismatch', $answer['error']);
    check_same('site_mismatch', pairing_protocol::parse_response(200, paired_answer(['issuer' => null]), $site)['error']);
    check_true(pairing_protocol::parse_response(200, paired_answer(['issuer' => $site . '/']), $site)['ok']);
    // A development tool on loopback may take notices over http.
    $answer = pairing_protocol::parse_response(200,
        paired_answer(['notices_url' => 'http://127.0.0.1:5000/lti/notices', 'issuer' => 'http://127.0.0.1:8080']),
        'http://127.0.0.1:8080');
    check_true($answer['ok']);
}
