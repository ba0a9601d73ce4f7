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
 * The pairing exchange with the tool (pure PHP: no Moodle API is used here).
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * Builds the pairing request and reads the tool's answer.
 */
class pairing_protocol {
    /** @var string[] Error codes the tool may answer with (each has a lang string pairerror_CODE). */
    const ERROR_CODES = ['unknown_code', 'expired', 'already_used', 'site_mismatch', 'token_rejected', 'bad_request'];

    /**
     * The JSON body POSTed to the pairing URL.
     *
     * @param string $siteurl $CFG->wwwroot
     * @param string $token the new web-service token
     * @param int $pluginversion $plugin->version of version.php
     * @param string $release $CFG->release
     * @param string[] $functions the service's functions
     * @return string JSON
     */
    public static function request_body(string $siteurl, string $token, int $pluginversion, string $release,
            array $functions): string {
        return json_encode([
            'site_url' => $siteurl,
            'token' => $token,
            'service' => contract::SERVICE_SHORTNAME,
            'plugin_version' => $pluginversion,
            'moodle_release' => $release,
            'functions' => array_values($functions),
        ], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    /**
     * Reads the tool's answer.
     *
     * @param int $status HTTP status (0: no answer)
     * @param string $body response body
     * @param string $issuer $CFG->wwwroot, which the tool must know as this platform's issuer
     * @return array ['ok' => true, 'client_id', 'deployment_ids' (string[]), 'notices_url',
     *     'platform_id', 'connector_id', 'issuer'] or ['ok' => false, 'error' => code,
     *     'message' => the tool's text, or '' when it gave none]
     */
    public static function parse_response(int $status, string $body, string $issuer): array {
        $data = json_decode($body, true);
        if ($status === 0) {
            return self::fail('no_answer', '');
        }
        if (!is_array($data)) {
            return self::fail('bad_answer', 'HTTP ' . $status);
        }
        if ($status !== 200) {
            $code = is_string($data['error'] ?? null) ? $data['error'] : 'bad_answer';
            if (!in_array($code, self::ERROR_CODES, true)) {
                $code = 'bad_answer';
            }
            $message = is_string($data['message'] ?? null) ? $data['message'] : 'HTTP ' . $status;
            return self::fail($code, $message);
        }
        if (($data['status'] ?? null) !== 'paired') {
            return self::fail('bad_answer', 'status is not "paired"');
        }
        if (!is_string($data['client_id'] ?? null) || $data['client_id'] === '') {
            return self::fail('bad_answer', 'client_id is missing');
        }
        $deployments = $data['deployment_ids'] ?? null;
        if (!is_array($deployments) || !$deployments) {
            return self::fail('bad_answer', 'deployment_ids is missing');
        }
        foreach ($deployments as $deployment) {
            if (!is_string($deployment) || $deployment === '') {
                return self::fail('bad_answer', 'deployment_ids must be strings');
            }
        }
        $noticesurl = $data['notices_url'] ?? null;
        if (!is_string($noticesurl) || url_policy::check_tool_url($noticesurl) !== null) {
            return self::fail('bad_answer', 'notices_url is not an https URL');
        }
        // The tool stores the issuer of Moodle's launches: $CFG->wwwroot, which never ends with "/".
        if (!is_string($data['issuer'] ?? null) || rtrim($data['issuer'], '/') !== rtrim($issuer, '/')) {
            return self::fail('site_mismatch', 'the tool knows this platform as ' . json_encode($data['issuer'] ?? null)
                . ', not ' . $issuer);
        }
        return [
            'ok' => true,
            'client_id' => $data['client_id'],
            'deployment_ids' => array_values($deployments),
            'notices_url' => $noticesurl,
            'platform_id' => (int) ($data['platform_id'] ?? 0),
            'connector_id' => (int) ($data['connector_id'] ?? 0),
            'issuer' => $data['issuer'],
        ];
    }

    /**
     * A failed pairing.
     *
     * @param string $code error code
     * @param string $message text to show
     * @return array
     */
    private static function fail(string $code, string $message): array {
        return ['ok' => false, 'error' => $code, 'message' => $message];
    }
}
