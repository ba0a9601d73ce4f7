<?php
// Reads {"change", "issuer", "clientid", "deploymentid", "now", "pem", "kid"} as JSON on stdin and
// prints the notice's HTTP body, built and signed by the plugin's own notice class.
require_once(__DIR__ . '/bootstrap.php');

$in = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$payload = \local_ltibadges\local\notice::payload($in['change'], $in['issuer'], $in['clientid'], $in['deploymentid'],
    $in['now']);
echo \local_ltibadges\local\notice::body(\local_ltibadges\local\notice::sign($payload, $in['pem'], $in['kid']));
