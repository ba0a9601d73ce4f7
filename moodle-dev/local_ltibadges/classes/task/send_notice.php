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
 * Ad hoc task that posts one notice to the tool.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\task;

use local_ltibadges\local\notice;

/**
 * Posts one signed notice to the tool's notices_url.
 *
 * Throwing makes the task system retry it later with a growing delay: that happens on a network
 * error and on 5xx. A 2xx (202 accepted, 200 ignored) or a 409 (already received) is delivered;
 * a 401 is retried only while the tool has never accepted the current key (it may still cache an
 * older key set); any other 4xx is logged and dropped. Every try signs a new JWT (new jti, iat
 * and exp), so a retry is never refused as a replay of the failed one.
 */
class send_notice extends \core\task\adhoc_task {
    /**
     * Name shown in the task logs.
     *
     * @return string
     */
    public function get_name(): string {
        return get_string('tasksendnotice', 'local_ltibadges');
    }

    /**
     * Signs and posts the notice.
     */
    public function execute() {
        global $CFG;
        require_once($CFG->libdir . '/filelib.php');

        $data = (array) $this->get_custom_data();
        $config = get_config('local_ltibadges');
        if (empty($config->noticesurl) || empty($config->clientid)) {
            mtrace('local_ltibadges: not paired any more, notice dropped.');
            return;
        }
        $key = self::platform_key();
        $change = [
            'event' => (string) $data['event'],
            'courseid' => (int) $data['courseid'],
            'userid' => (int) $data['userid'],
            'cmid' => isset($data['cmid']) ? (int) $data['cmid'] : null,
            'itemid' => isset($data['itemid']) ? (int) $data['itemid'] : null,
            'time' => (int) $data['time'],
        ];
        $payload = notice::payload($change, $CFG->wwwroot, (string) $config->clientid, (string) $data['deploymentid'],
            time());
        $jwt = notice::sign($payload, $key['key'], (string) $key['kid']);

        // Moodle's curl class applies the site's cURL security settings (blocked hosts and ports).
        $curl = new \curl();
        $curl->setHeader(['Content-Type: application/json', 'Accept: application/json']);
        $body = $curl->post($config->noticesurl, notice::body($jwt), [
            'CURLOPT_CONNECTTIMEOUT' => 10,
            'CURLOPT_TIMEOUT' => 30,
        ]);
        $info = $curl->get_info();
        $status = $curl->get_errno() ? 0 : (int) ($info['http_code'] ?? 0);
        if ($status === 0 && $curl->error === get_string('curlsecurityurlblocked', 'admin')) {
            mtrace('local_ltibadges: ' . get_string('error_blocked', 'local_ltibadges', $config->noticesurl));
            return; // Retrying cannot help until an admin changes the cURL security settings.
        }

        $kidisnew = (string) get_config('local_ltibadges', 'acceptedkid') !== (string) $key['kid'];
        $summary = "notice {$payload['jti']} ({$data['event']}, course {$change['courseid']}, "
            . "user {$change['userid']}) to {$config->noticesurl}: HTTP {$status}";
        switch (notice::outcome($status, $kidisnew)) {
            case notice::DELIVERED:
                if ($kidisnew) {
                    set_config('acceptedkid', (string) $key['kid'], 'local_ltibadges');
                }
                mtrace("local_ltibadges: delivered $summary");
                return;
            case notice::RETRY:
                throw new \moodle_exception('error_noticeretry', 'local_ltibadges', '',
                    $summary . ($status === 0 ? ' ' . $curl->error : ''));
            default:
                mtrace("local_ltibadges: dropped $summary " . \core_text::substr((string) $body, 0, 500));
        }
    }

    /**
     * Moodle's LTI platform key: the one /mod/lti/certs.php publishes and LTI launches are signed with.
     *
     * @return array ['key' => PEM private key, 'kid' => key id]
     */
    public static function platform_key(): array {
        global $CFG;
        if (class_exists('\mod_lti\local\ltiopenid\jwks_helper')) {
            $key = \mod_lti\local\ltiopenid\jwks_helper::get_private_key();
        } else {
            $key = ['key' => get_config('mod_lti', 'privatekey'), 'kid' => get_config('mod_lti', 'kid')];
        }
        if (empty($key['key']) || empty($key['kid'])) {
            // Mod_lti makes the key on its first LTI 1.3 use; make it now the same way.
            require_once($CFG->dirroot . '/mod/lti/upgradelib.php');
            mod_lti_verify_private_key();
            $key = ['key' => get_config('mod_lti', 'privatekey'), 'kid' => get_config('mod_lti', 'kid')];
        }
        return $key;
    }
}
