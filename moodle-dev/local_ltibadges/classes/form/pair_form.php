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
 * Form of the pairing page.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\form;

defined('MOODLE_INTERNAL') || die();

require_once($CFG->libdir . '/formslib.php');

use local_ltibadges\local\url_policy;

/**
 * Asks for the one-time pairing URL the tool printed.
 */
class pair_form extends \moodleform {
    /**
     * Fields.
     */
    protected function definition() {
        $mform = $this->_form;
        $mform->addElement('text', 'pairingurl', get_string('pairingurl', 'local_ltibadges'), ['size' => 80]);
        $mform->setType('pairingurl', PARAM_RAW_TRIMMED);
        $mform->addRule('pairingurl', null, 'required', null, 'client');
        $mform->addHelpButton('pairingurl', 'pairingurl', 'local_ltibadges');
        $this->add_action_buttons(false, get_string('pairbutton', 'local_ltibadges'));
    }

    /**
     * Checks the URL before anything is created.
     *
     * @param array $data submitted data
     * @param array $files files
     * @return array errors
     */
    public function validation($data, $files) {
        $errors = parent::validation($data, $files);
        $parsed = url_policy::parse_pairing_url((string) ($data['pairingurl'] ?? ''));
        if (is_string($parsed)) {
            $errors['pairingurl'] = get_string($parsed, 'local_ltibadges');
        }
        return $errors;
    }
}
