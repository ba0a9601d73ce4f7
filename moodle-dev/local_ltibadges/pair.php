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
 * Admin page: pair this Moodle with an lti-badges tool.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');
require_once($CFG->libdir . '/adminlib.php');

admin_externalpage_setup('local_ltibadges_pair');

$form = new \local_ltibadges\form\pair_form();
$result = null;
if ($data = $form->get_data()) {
    require_sesskey();
    $result = \local_ltibadges\local\pairing::pair($data->pairingurl);
}

echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('pairtitle', 'local_ltibadges'));
if ($result !== null) {
    echo $OUTPUT->notification(s($result['message']), $result['ok'] ? 'success' : 'error');
    if (!empty($result['dev'])) {
        echo $OUTPUT->notification(get_string('devhostwarning', 'local_ltibadges'), 'warning');
    }
}
echo html_writer::div(get_string('pairintro', 'local_ltibadges'));
echo $OUTPUT->notification(get_string('tokenexpirywarning', 'local_ltibadges'), 'info');
$form->display();
echo $OUTPUT->footer();
