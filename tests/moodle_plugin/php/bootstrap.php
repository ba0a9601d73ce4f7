<?php
// Loads the plugin's Moodle-free classes for plain-PHP tests (no Moodle here).
// The plugin's files start with "defined('MOODLE_INTERNAL') || die();".
define('MOODLE_INTERNAL', true);
define('LTIBADGES_PLUGIN_DIR', dirname(__DIR__, 3) . '/moodle-dev/local_ltibadges');

// The same mapping as Moodle's class autoloader: local_ltibadges\a\b => classes/a/b.php.
spl_autoload_register(function (string $class): void {
    $prefix = 'local_ltibadges\\';
    if (strpos($class, $prefix) !== 0) {
        return;
    }
    $file = LTIBADGES_PLUGIN_DIR . '/classes/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require_once($file);
    }
});
