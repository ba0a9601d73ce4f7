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
 * Pairs this Moodle with an lti-badges tool in one step.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * Does what MOODLE_SETUP.md asks an admin to do by hand, then hands the token to the tool:
 * web services and REST on, the connector user, a system role with exactly the needed
 * capabilities, the user authorised on the service, a token without expiry, and the pairing POST.
 */
class pairing {
    /**
     * Pairs with the tool that printed this one-time URL.
     *
     * @param string $pairingurl `{TOOL}/connectors/moodle/pair/{CODE}`
     * @return array ['ok' => bool, 'message' => text to show, 'dev' => whether the URL is a dev host,
     *     plus the parsed answer of pairing_protocol::parse_response() on success]
     */
    public static function pair(string $pairingurl): array {
        global $CFG, $DB;
        require_once($CFG->libdir . '/filelib.php');

        $parsed = url_policy::parse_pairing_url($pairingurl);
        if (is_string($parsed)) {
            return ['ok' => false, 'error' => $parsed, 'message' => get_string($parsed, 'local_ltibadges'), 'dev' => false];
        }
        $dev = url_policy::is_dev_url($parsed['url']);

        self::enable_webservices();
        $service = $DB->get_record('external_services', ['shortname' => contract::SERVICE_SHORTNAME], '*', MUST_EXIST);
        if (empty($service->enabled)) {
            $DB->set_field('external_services', 'enabled', 1, ['id' => $service->id]);
        }
        $user = self::service_user();
        $roleid = self::connector_role();
        $syscontext = \context_system::instance();
        role_assign($roleid, $user->id, $syscontext->id);
        if (!$DB->record_exists('external_services_users', ['externalserviceid' => $service->id, 'userid' => $user->id])) {
            $DB->insert_record('external_services_users', (object) [
                'externalserviceid' => $service->id,
                'userid' => $user->id,
                'timecreated' => time(),
            ]);
        }
        $token = self::create_token($service, (int) $user->id);

        // Only functions this Moodle has (core_grades_get_gradeitems came with 4.2, for example).
        $functions = $DB->get_fieldset_sql('SELECT sf.functionname
                                              FROM {external_services_functions} sf
                                              JOIN {external_functions} f ON f.name = sf.functionname
                                             WHERE sf.externalserviceid = ?', [$service->id]);
        sort($functions);
        $own = array_search('local_ltibadges_get_course_facts', $functions, true);
        if ($own !== false) {
            unset($functions[$own]);
            array_unshift($functions, 'local_ltibadges_get_course_facts');
        }
        $plugin = \core_plugin_manager::instance()->get_plugin_info('local_ltibadges');
        $body = pairing_protocol::request_body($CFG->wwwroot, $token, (int) $plugin->versiondisk, (string) $CFG->release,
            $functions);

        // Moodle's curl class applies the site's cURL security settings (blocked hosts and ports).
        $curl = new \curl();
        $curl->setHeader(['Content-Type: application/json', 'Accept: application/json']);
        $response = $curl->post($parsed['url'], $body, ['CURLOPT_CONNECTTIMEOUT' => 10, 'CURLOPT_TIMEOUT' => 30]);
        $info = $curl->get_info();
        $status = $curl->get_errno() ? 0 : (int) ($info['http_code'] ?? 0);
        $answer = pairing_protocol::parse_response($status, (string) $response, $CFG->wwwroot);

        if (!$answer['ok']) {
            // The tool did not take the token: it must not stay valid.
            $DB->delete_records('external_tokens', ['token' => $token]);
            if ($status === 0) {
                $blocked = $curl->error === get_string('curlsecurityurlblocked', 'admin');
                $message = $blocked ? get_string('error_blocked', 'local_ltibadges', $parsed['url'])
                    : get_string('pairerror_no_answer', 'local_ltibadges', $curl->error);
            } else {
                $message = get_string('pairerror_' . $answer['error'], 'local_ltibadges')
                    . ($answer['message'] !== '' ? ' ' . get_string('pairtoolsaid', 'local_ltibadges', $answer['message']) : '');
            }
            return ['ok' => false, 'error' => $answer['error'], 'message' => $message, 'dev' => $dev];
        }

        set_config('toolurl', $parsed['tool'], 'local_ltibadges');
        set_config('clientid', $answer['client_id'], 'local_ltibadges');
        set_config('deploymentids', implode(',', $answer['deployment_ids']), 'local_ltibadges');
        set_config('noticesurl', $answer['notices_url'], 'local_ltibadges');
        set_config('platformid', $answer['platform_id'], 'local_ltibadges');
        set_config('connectorid', $answer['connector_id'], 'local_ltibadges');
        set_config('pairedat', time(), 'local_ltibadges');
        set_config('acceptedkid', '', 'local_ltibadges');
        // Tokens of earlier pairings are replaced by the new one.
        $DB->delete_records_select('external_tokens', 'externalserviceid = ? AND userid = ? AND token <> ?',
            [$service->id, $user->id, $token]);

        $answer['dev'] = $dev;
        $answer['message'] = get_string('paired', 'local_ltibadges', (object) [
            'tool' => $parsed['tool'],
            'clientid' => $answer['client_id'],
            'deployments' => implode(', ', $answer['deployment_ids']),
        ]);
        return $answer;
    }

    /**
     * Turns web services and the REST protocol on.
     */
    private static function enable_webservices(): void {
        global $CFG;
        if (empty($CFG->enablewebservices)) {
            set_config('enablewebservices', 1);
        }
        $protocols = array_filter(explode(',', (string) get_config('core', 'webserviceprotocols')), 'strlen');
        if (!in_array('rest', $protocols, true)) {
            $protocols[] = 'rest';
            set_config('webserviceprotocols', implode(',', $protocols));
        }
    }

    /**
     * The connector user, created the first time (manual account, random password nobody knows).
     *
     * @return \stdClass
     */
    private static function service_user(): \stdClass {
        global $CFG, $DB;
        $user = $DB->get_record('user', ['username' => contract::SERVICE_USERNAME, 'mnethostid' => $CFG->mnet_localhost_id,
            'deleted' => 0]);
        if ($user) {
            if (!empty($user->suspended)) {
                $DB->set_field('user', 'suspended', 0, ['id' => $user->id]);
            }
            return $user;
        }
        require_once($CFG->dirroot . '/user/lib.php');
        $id = user_create_user((object) [
            'username' => contract::SERVICE_USERNAME,
            'auth' => 'manual',
            'password' => generate_password(40) . 'aA1!',
            'firstname' => 'LTI badges',
            'lastname' => 'connector',
            'email' => contract::SERVICE_USERNAME . '@invalid.invalid',
            'emailstop' => 1,
            'confirmed' => 1,
            'mnethostid' => $CFG->mnet_localhost_id,
        ], true, false);
        return $DB->get_record('user', ['id' => $id], '*', MUST_EXIST);
    }

    /**
     * The connector role: system context only, exactly contract::role_capabilities() allowed.
     *
     * @return int role id
     */
    private static function connector_role(): int {
        global $DB;
        $syscontext = \context_system::instance();
        $roleid = $DB->get_field('role', 'id', ['shortname' => contract::ROLE_SHORTNAME]);
        if (!$roleid) {
            $roleid = create_role(get_string('rolename', 'local_ltibadges'), contract::ROLE_SHORTNAME,
                get_string('roledescription', 'local_ltibadges'), '');
        }
        set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);

        $modnames = array_keys(\core_component::get_plugin_list('mod'));
        $existing = $DB->get_fieldset_select('capabilities', 'name', '1 = 1');
        $wanted = contract::role_capabilities($modnames, $existing);
        $current = $DB->get_records_menu('role_capabilities', ['roleid' => $roleid, 'contextid' => $syscontext->id],
            '', 'capability, permission');
        foreach ($current as $capability => $permission) {
            if (!in_array($capability, $wanted, true)) {
                unassign_capability($capability, $roleid, $syscontext->id);
            }
        }
        foreach ($wanted as $capability) {
            if (($current[$capability] ?? null) != CAP_ALLOW) {
                assign_capability($capability, CAP_ALLOW, $roleid, $syscontext->id, true);
            }
        }
        $syscontext->mark_dirty();
        return (int) $roleid;
    }

    /**
     * A permanent token without expiry (validuntil 0) for the service.
     *
     * @param \stdClass $service the external service
     * @param int $userid the connector user
     * @return string the token
     */
    private static function create_token(\stdClass $service, int $userid): string {
        global $CFG;
        $context = \context_system::instance();
        if (class_exists('\core_external\util')) {
            return \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, $userid, $context, 0, '');
        }
        require_once($CFG->libdir . '/externallib.php'); // Moodle 4.1.
        return external_generate_token(EXTERNAL_TOKEN_PERMANENT, $service, $userid, $context, 0, '');
    }
}
