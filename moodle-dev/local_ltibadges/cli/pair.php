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
 * CLI: pair this Moodle with an lti-badges tool.
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

[$options, $unrecognised] = cli_get_params(['url' => '', 'help' => false], ['h' => 'help']);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode(PHP_EOL . '  ', $unrecognised)));
}
if ($options['help'] || $options['url'] === '') {
    cli_writeln(get_string('clihelp', 'local_ltibadges'));
    exit($options['help'] ? 0 : 2);
}

// The token's creator is the main admin, as when an admin pairs from the web page.
\core\session\manager::set_user(get_admin());

$result = \local_ltibadges\local\pairing::pair($options['url']);
if (!empty($result['dev'])) {
    cli_writeln(get_string('devhostwarning', 'local_ltibadges'));
}
if (!$result['ok']) {
    cli_error($result['message'], 1);
}
cli_writeln($result['message']);
exit(0);
