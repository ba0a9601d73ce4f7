<?php  // Moodle configuration file of moodle-dev/compose.yaml (development only, never production).
unset($CFG);
global $CFG;
$CFG = new stdClass();

$CFG->dbtype    = 'pgsql';
$CFG->dblibrary = 'native';
$CFG->dbhost    = 'db';
$CFG->dbname    = 'moodle';
$CFG->dbuser    = 'moodle';
$CFG->dbpass    = 'moodle';
$CFG->prefix    = 'mdl_';
$CFG->dboptions = ['dbport' => 5432];

$CFG->wwwroot   = getenv('MOODLE_WWWROOT') ?: 'http://moodle.localhost:8000';
$CFG->dataroot  = '/var/www/moodledata';
$CFG->admin     = 'admin';
$CFG->directorypermissions = 02777;

// The tool is another container on a private address, over http: Moodle's cURL security
// settings block both by default (recorded in ../../shared/moodle/README.md).
$CFG->curlsecurityblockedhosts = '';
$CFG->curlsecurityallowedport = '';

$CFG->debug = E_ALL;
$CFG->debugdisplay = 1;

require_once(__DIR__ . '/lib/setup.php');
