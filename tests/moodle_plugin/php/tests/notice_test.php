<?php
use local_ltibadges\local\contract;
use local_ltibadges\local\notice;

function sample_change(array $change = []): array {
    return array_merge(['event' => '\core\event\user_graded', 'courseid' => 2, 'userid' => 4, 'cmid' => 1,
        'itemid' => 2, 'time' => 1795328512], $change);
}

function test_notice_payload_claims(): void {
    $payload = notice::payload(sample_change(), 'http://127.0.0.1:8080', 'kgDDY3FUnq3wN3I', '1', 1795328600,
        '0b5f3e1c-9f7e-4c1a-8d2b-3a4b5c6d7e8f');
    check_same([
        'iss' => 'http://127.0.0.1:8080',
        'aud' => 'kgDDY3FUnq3wN3I',
        'iat' => 1795328600,
        'exp' => 1795328900,
        'jti' => '0b5f3e1c-9f7e-4c1a-8d2b-3a4b5c6d7e8f',
        'sub' => '4',
        'https://purl.imsglobal.org/spec/lti/claim/deployment_id' => '1',
        'https://purl.imsglobal.org/spec/lti/claim/context' => ['id' => '2'],
        'https://purl.imsglobal.org/spec/lti/claim/notice' => [
            'id' => '0b5f3e1c-9f7e-4c1a-8d2b-3a4b5c6d7e8f',
            'timestamp' => '2026-11-22T06:21:52Z',
            'type' => 'LtiBadgesGradeNotice',
        ],
        'https://lti-badges.org/claim/change' => [
            'event' => '\core\event\user_graded',
            'cmid' => 1,
            'itemid' => 2,
            'time' => 1795328512,
        ],
    ], $payload);
}

function test_notice_payload_nulls_and_new_ids(): void {
    $one = notice::payload(sample_change(['event' => '\core\event\course_completed', 'cmid' => null, 'itemid' => null]),
        'https://m.example.edu', 'c', '2', 100);
    check_same(null, $one[contract::CLAIM_CHANGE]['cmid']);
    check_same(null, $one[contract::CLAIM_CHANGE]['itemid']);
    check_same('LtiBadgesCourseCompletionNotice', $one[contract::CLAIM_NOTICE]['type']);
    check_same($one['jti'], $one[contract::CLAIM_NOTICE]['id']);
    check_true((bool) preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', $one['jti']));
    $two = notice::payload(sample_change(), 'https://m.example.edu', 'c', '2', 100);
    check_true($one['jti'] !== $two['jti'], 'every attempt gets a new jti');
}

function test_notice_payload_refuses_unknown_event_or_missing_ids(): void {
    check_throws(InvalidArgumentException::class, function () {
        notice::payload(sample_change(['event' => '\core\event\user_loggedin']), 'i', 'c', '1', 1);
    });
    check_throws(InvalidArgumentException::class, function () {
        notice::payload(sample_change(['userid' => '4']), 'i', 'c', '1', 1);
    });
}

function test_notice_sign_verifies_with_the_public_key(): void {
    $key = openssl_pkey_new(['private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA]);
    openssl_pkey_export($key, $pem);
    $public = openssl_pkey_get_details($key)['key'];
    $jwt = notice::sign(['sub' => '4', 'iss' => 'https://m.example.edu/x'], $pem, '2c4c53d165f8345339ee');
    [$h, $p, $s] = explode('.', $jwt);
    $b64 = function (string $part): string {
        return base64_decode(strtr($part, '-_', '+/') . str_repeat('=', (4 - strlen($part) % 4) % 4));
    };
    check_same(['typ' => 'JWT', 'alg' => 'RS256', 'kid' => '2c4c53d165f8345339ee'], json_decode($b64($h), true));
    check_same(['sub' => '4', 'iss' => 'https://m.example.edu/x'], json_decode($b64($p), true));
    check_same(1, openssl_verify("$h.$p", $b64($s), $public, OPENSSL_ALGO_SHA256));
    check_same(0, openssl_verify("$h.$p" . 'x', $b64($s), $public, OPENSSL_ALGO_SHA256));
    check_same(false, strpos($jwt, '='), 'no padding');
    check_throws(RuntimeException::class, function () {
        notice::sign([], 'not a key', 'k');
    });
}

function test_notice_outcome(): void {
    foreach ([200, 202, 204, 409] as $status) {
        check_same(notice::DELIVERED, notice::outcome($status), (string) $status);
    }
    foreach ([0, 500, 502, 503, 504] as $status) {
        check_same(notice::RETRY, notice::outcome($status), (string) $status);
    }
    foreach ([400, 401, 403, 404, 410, 422, 429] as $status) {
        check_same(notice::GIVEUP, notice::outcome($status), (string) $status);
    }
    check_same(notice::RETRY, notice::outcome(401, true), 'a key the tool never accepted may be new to it');
    check_same(notice::GIVEUP, notice::outcome(403, true));
    check_same('{"jwt":"a.b.c"}', notice::body('a.b.c'));
}
