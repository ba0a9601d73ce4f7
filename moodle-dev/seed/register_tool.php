<?php
// Registers the lti-badges tool by LTI Advantage dynamic registration, activates it, and adds
// it to the demo course (run inside the moodle container, as www-data):
//   php /seed/register_tool.php --url="$(docker compose exec tool lti-badges platforms invite)"
// It does what Site administration > Manage tools > "Add LTI Advantage" does (a registration
// token signed with mod_lti's key, see mod/lti/startltiadvregistration.php), without a browser:
// the tool's registration URL does the whole exchange when it is opened.

define('CLI_SCRIPT', true);
require(getenv('MOODLE_CONFIG') ?: '/var/www/html/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->libdir . '/filelib.php');
require_once($CFG->dirroot . '/course/modlib.php');
require_once($CFG->dirroot . '/mod/lti/locallib.php');

[$options] = cli_get_params(['url' => '', 'course' => 'OBP101', 'help' => false], ['h' => 'help']);
if ($options['help'] || $options['url'] === '') {
    cli_writeln("Usage: php /seed/register_tool.php --url=TOOL_REGISTRATION_URL [--course=OBP101]");
    exit($options['help'] ? 0 : 2);
}
\core\session\manager::set_user(get_admin());

$clientid = random_string(15);
$key = \mod_lti\local\ltiopenid\jwks_helper::get_private_key();
$now = time();
$token = \Firebase\JWT\JWT::encode(['sub' => $clientid, 'scope' => 'reg', 'iat' => $now, 'exp' => $now + HOURSECS],
    $key['key'], 'RS256', $key['kid']);
$url = new moodle_url(trim($options['url']), [
    'openid_configuration' => (new moodle_url('/mod/lti/openid-configuration.php'))->out(false),
    'registration_token' => $token,
]);
$curl = new curl();
$page = $curl->get($url->out(false));
$type = $DB->get_record('lti_types', ['clientid' => $clientid]);
if (!$type) {
    cli_error("The tool did not register (HTTP " . ($curl->get_info()['http_code'] ?? 0) . "):\n"
        . core_text::substr(strip_tags((string) $page), 0, 2000));
}
$DB->set_field('lti_types', 'state', LTI_TOOL_STATE_CONFIGURED, ['id' => $type->id]);
cli_writeln("Registered and activated the tool type {$type->id} (deployment id \"{$type->id}\", client_id {$clientid}).");

$course = $DB->get_record('course', ['shortname' => $options['course']], '*', MUST_EXIST);
$cm = create_module((object) [
    'modulename' => 'lti', 'course' => $course->id, 'section' => 1, 'name' => 'Badges', 'visible' => 1,
    'intro' => '', 'introformat' => FORMAT_HTML, 'cmidnumber' => '', 'typeid' => $type->id, 'toolurl' => '',
    'securetoolurl' => '', 'launchcontainer' => LTI_LAUNCH_CONTAINER_DEFAULT, 'showtitlelaunch' => 1,
    'showdescriptionlaunch' => 0, 'instructorchoicesendname' => 1, 'instructorchoicesendemailaddr' => 1,
    'instructorchoiceacceptgrades' => 1, 'instructorcustomparameters' => '', 'grade' => 0, 'icon' => '',
    'secureicon' => '', 'debuglaunch' => 0, 'servicesalt' => uniqid('', true),
]);
cli_writeln("Added the activity \"Badges\" to {$course->shortname}: {$CFG->wwwroot}/mod/lti/view.php?id={$cm->coursemodule}");
