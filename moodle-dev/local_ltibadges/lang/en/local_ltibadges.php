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
 * English strings of local_ltibadges.
 *
 * @package    local_ltibadges
 * @category   string
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['allcourses'] = 'Notify changes in every course';
$string['allcourses_desc'] = 'Off: the tool is notified only of changes in courses that have an activity of one of the paired tools. On: of changes in every course.';
$string['clihelp'] = 'Pairs this Moodle with an lti-badges tool.

Options:
  --url=URL    the one-time pairing URL the tool printed ({TOOL}/connectors/moodle/pair/{CODE})
  -h, --help   this help

Example:
  php local/ltibadges/cli/pair.php --url=https://badges.example.edu/connectors/moodle/pair/AbC123xyz';
$string['devhostwarning'] = 'The tool is on a loopback or development host: plain http is accepted there only. Use https for any other tool. Moodle\'s cURL security settings block loopback hosts by default: remove them from "cURL blocked hosts list" (and the port from "cURL allowed ports") for a tool on this machine.';
$string['disablenotices'] = 'Stop notices';
$string['disablenotices_desc'] = 'No change notice is sent to the tool. The tool still reads courses through the web service.';
$string['error_blocked'] = 'Moodle\'s cURL security settings block {$a}. An administrator must change "cURL blocked hosts list" or "cURL allowed ports" (Site administration > General > Security > HTTP security).';
$string['error_noticeretry'] = 'The tool did not take the notice, it will be sent again later: {$a}';
$string['error_url_http'] = 'The URL must start with https:// (plain http is accepted only for a loopback or development host such as localhost).';
$string['error_url_invalid'] = 'This is not a valid web address.';
$string['error_url_notpairing'] = 'This is not a pairing URL. It looks like https://TOOL/connectors/moodle/pair/CODE: copy it exactly as the tool printed it.';
$string['ltibadges:readcoursefacts'] = 'Read the grades and completions of every participant of a course (lti-badges connector)';
$string['pairbutton'] = 'Pair';
$string['paired'] = 'Paired with {$a->tool}: client_id {$a->clientid}, deployments {$a->deployments}.';
$string['pairerror_already_used'] = 'This pairing URL was already used. Ask the tool\'s administrator for a new one.';
$string['pairerror_bad_answer'] = 'The tool\'s answer could not be understood.';
$string['pairerror_bad_request'] = 'The tool refused the pairing request.';
$string['pairerror_expired'] = 'This pairing URL has expired (it is valid for 24 hours). Ask the tool\'s administrator for a new one.';
$string['pairerror_no_answer'] = 'The tool did not answer: {$a}';
$string['pairerror_site_mismatch'] = 'The tool knows this platform under another address than this site\'s.';
$string['pairerror_token_rejected'] = 'The tool could not use the token.';
$string['pairerror_unknown_code'] = 'The tool does not know this pairing URL. Check that it was copied whole.';
$string['pairingurl'] = 'Pairing URL';
$string['pairingurl_help'] = 'The one-time URL the lti-badges tool printed (valid 24 hours, one use).';
$string['pairintro'] = 'Pairing does in one step what the manual set-up asks for: it turns web services and the REST protocol on, creates (or reuses) the user "ltibadgesconnector" and the system role "LTI badges connector" with exactly the capabilities the tool needs, creates a web-service token without expiry for the service "LTI badges connector", and hands that token to the tool over HTTPS.';
$string['pairlink'] = 'Pair with a tool';
$string['pairtitle'] = 'Pair with an lti-badges tool';
$string['pairtoolsaid'] = 'The tool said: {$a}';
$string['pluginname'] = 'LTI badges connector';
$string['privacy:metadata:tool'] = 'The paired lti-badges tool awards Open Badges. The plugin notifies it when a learner\'s grade, completion or enrolment changes, and the tool reads the course\'s facts through the web service.';
$string['privacy:metadata:tool:completions'] = 'Activity and course completion states and times.';
$string['privacy:metadata:tool:courseid'] = 'The course id.';
$string['privacy:metadata:tool:email'] = 'The user\'s email address.';
$string['privacy:metadata:tool:enrolments'] = 'The user\'s roles and enrolment status in the course.';
$string['privacy:metadata:tool:fullname'] = 'The user\'s name.';
$string['privacy:metadata:tool:grades'] = 'The user\'s grades and their times.';
$string['privacy:metadata:tool:idnumber'] = 'The user\'s ID number.';
$string['privacy:metadata:tool:userid'] = 'The user id (the LTI subject).';
$string['roledescription'] = 'Web-service role of the lti-badges connector: reads courses, grades and completions. Created by local_ltibadges; its capabilities are reset at each pairing.';
$string['rolename'] = 'LTI badges connector';
$string['settings'] = 'Settings';
$string['status'] = 'Pairing';
$string['statusnotpaired'] = 'Not paired with a tool.';
$string['statuspaired'] = 'Paired with {$a->tool} (client_id {$a->clientid}, deployments {$a->deployments}); notices go to {$a->noticesurl}.';
$string['tasksendnotice'] = 'Send a change notice to the lti-badges tool';
$string['tokenexpirywarning'] = 'The token made by pairing has no expiry date. A token made by hand (Site administration > Server > Web services > Manage tokens) expires after 30 days by default on recent Moodle versions: the tool then stops seeing grades and completions. If you make one by hand, clear its expiry date or renew it in time.';
