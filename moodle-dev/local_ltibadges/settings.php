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
 * Settings of local_ltibadges.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if ($hassiteconfig) {
    $ADMIN->add('localplugins', new admin_category('local_ltibadges_category',
        get_string('pluginname', 'local_ltibadges')));

    $settings = new admin_settingpage('local_ltibadges', get_string('settings', 'local_ltibadges'));
    if ($ADMIN->fulltree) {
        $pairurl = new moodle_url('/local/ltibadges/pair.php');
        $config = get_config('local_ltibadges');
        if (!empty($config->clientid)) {
            $status = get_string('statuspaired', 'local_ltibadges', (object) [
                'tool' => s($config->toolurl ?? ''),
                'clientid' => s($config->clientid),
                'deployments' => s($config->deploymentids ?? ''),
                'noticesurl' => s($config->noticesurl ?? ''),
            ]);
        } else {
            $status = get_string('statusnotpaired', 'local_ltibadges');
        }
        $settings->add(new admin_setting_heading('local_ltibadges/status', get_string('status', 'local_ltibadges'),
            $status . ' ' . html_writer::link($pairurl, get_string('pairlink', 'local_ltibadges'))));
        $settings->add(new admin_setting_configcheckbox('local_ltibadges/allcourses',
            get_string('allcourses', 'local_ltibadges'), get_string('allcourses_desc', 'local_ltibadges'), 0));
        $settings->add(new admin_setting_configcheckbox('local_ltibadges/disablenotices',
            get_string('disablenotices', 'local_ltibadges'), get_string('disablenotices_desc', 'local_ltibadges'), 0));
    }
    $ADMIN->add('local_ltibadges_category', $settings);
    $ADMIN->add('local_ltibadges_category', new admin_externalpage('local_ltibadges_pair',
        get_string('pairtitle', 'local_ltibadges'), new moodle_url('/local/ltibadges/pair.php'), 'moodle/site:config'));
}
