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
 * Signed change notices sent to the tool (pure PHP: no Moodle API is used here).
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * Builds and signs one notice, modelled on the notices of the 1EdTech LTI Platform Notification
 * Service: a JWT whose issuer is the platform, audience the tool's client_id, with a notice claim.
 */
class notice {
    /** @var string Delivered: 2xx, 409 (already received) or 200 "ignored". */
    const DELIVERED = 'delivered';

    /** @var string Try again later (the task system retries with a growing delay). */
    const RETRY = 'retry';

    /** @var string Log and drop: the tool will never accept this notice. */
    const GIVEUP = 'giveup';

    /**
     * The JWT payload of one notice.
     *
     * @param array $change what changed: string 'event' (event class name), int 'courseid',
     *     int 'userid', int|null 'cmid', int|null 'itemid', int 'time' (unix time of the event)
     * @param string $issuer $CFG->wwwroot, the issuer of Moodle's LTI launches
     * @param string $clientid the tool's LTI client_id
     * @param string $deploymentid LTI deployment id (Moodle's tool type id)
     * @param int $now signing time
     * @param string|null $uuid notice id and jti; a new random UUID when null
     * @return array
     */
    public static function payload(array $change, string $issuer, string $clientid, string $deploymentid,
            int $now, ?string $uuid = null): array {
        $type = contract::notice_type((string) ($change['event'] ?? ''));
        if ($type === null) {
            throw new \InvalidArgumentException('no notice for event ' . ($change['event'] ?? ''));
        }
        foreach (['courseid', 'userid', 'time'] as $key) {
            if (!isset($change[$key]) || !is_int($change[$key])) {
                throw new \InvalidArgumentException("change needs an integer $key");
            }
        }
        $uuid = $uuid ?? self::uuid4();
        return [
            'iss' => $issuer,
            'aud' => $clientid,
            'iat' => $now,
            'exp' => $now + contract::NOTICE_LIFETIME,
            'jti' => $uuid,
            'sub' => (string) $change['userid'],
            contract::CLAIM_DEPLOYMENT => $deploymentid,
            contract::CLAIM_CONTEXT => ['id' => (string) $change['courseid']],
            contract::CLAIM_NOTICE => [
                'id' => $uuid,
                'timestamp' => self::iso8601($change['time']),
                'type' => $type,
            ],
            contract::CLAIM_CHANGE => [
                'event' => '\\' . ltrim($change['event'], '\\'),
                'cmid' => isset($change['cmid']) ? (int) $change['cmid'] : null,
                'itemid' => isset($change['itemid']) ? (int) $change['itemid'] : null,
                'time' => $change['time'],
            ],
        ];
    }

    /**
     * A random (version 4) UUID.
     *
     * @return string
     */
    public static function uuid4(): string {
        $bytes = random_bytes(16);
        $bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
        $bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
        $hex = bin2hex($bytes);
        return substr($hex, 0, 8) . '-' . substr($hex, 8, 4) . '-' . substr($hex, 12, 4) . '-'
            . substr($hex, 16, 4) . '-' . substr($hex, 20, 12);
    }

    /**
     * ISO 8601 UTC time, as in the notices of the Platform Notification Service.
     *
     * @param int $time unix time
     * @return string e.g. 2026-12-02T07:00:00Z
     */
    public static function iso8601(int $time): string {
        return gmdate('Y-m-d\TH:i:s\Z', $time);
    }

    /**
     * Compact JWS signed RS256: the same bytes \Firebase\JWT\JWT::encode($payload, $key, 'RS256',
     * $kid) gives (header typ, alg, kid; SHA-256 RSA PKCS#1 v1.5), without needing Moodle.
     *
     * @param array $payload claims
     * @param string $privatekeypem PEM private key (mod_lti's privatekey config)
     * @param string $kid key id (mod_lti's kid config, the kid of /mod/lti/certs.php)
     * @return string
     */
    public static function sign(array $payload, string $privatekeypem, string $kid): string {
        $header = ['typ' => 'JWT', 'alg' => 'RS256', 'kid' => $kid];
        $input = self::b64url(self::json($header)) . '.' . self::b64url(self::json($payload));
        $key = openssl_pkey_get_private($privatekeypem);
        if ($key === false) {
            throw new \RuntimeException('the LTI platform private key cannot be read');
        }
        $signature = '';
        if (!openssl_sign($input, $signature, $key, OPENSSL_ALGO_SHA256)) {
            throw new \RuntimeException('signing the notice failed');
        }
        return $input . '.' . self::b64url($signature);
    }

    /**
     * The HTTP body posted to the tool's notices_url.
     *
     * @param string $jwt compact JWS
     * @return string JSON
     */
    public static function body(string $jwt): string {
        return self::json(['jwt' => $jwt]);
    }

    /**
     * What to do after the tool answered.
     *
     * @param int $status HTTP status, 0 when no answer came (network error, time-out)
     * @param bool $kidisnew true when this key id was never accepted by the tool: a 401 may then
     *     mean that the tool still caches the previous key set, and a later try may pass
     * @return string self::DELIVERED, self::RETRY or self::GIVEUP
     */
    public static function outcome(int $status, bool $kidisnew = false): string {
        if (($status >= 200 && $status < 300) || $status === 409) {
            return self::DELIVERED;
        }
        if ($status === 0 || $status >= 500) {
            return self::RETRY;
        }
        if ($status === 401 && $kidisnew) {
            return self::RETRY;
        }
        return self::GIVEUP;
    }

    /**
     * Base64url without padding.
     *
     * @param string $data bytes
     * @return string
     */
    public static function b64url(string $data): string {
        return rtrim(strtr(base64_encode($data), '+/', '-_'), '=');
    }

    /**
     * JSON as the tool reads it (slashes and Unicode kept as they are).
     *
     * @param array $data
     * @return string
     */
    private static function json(array $data): string {
        return json_encode($data, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }
}
