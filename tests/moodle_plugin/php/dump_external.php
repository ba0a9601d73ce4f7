<?php
// Prints, as JSON, the parameters and the returned structure of local_ltibadges_get_course_facts
// built by the plugin's own class (with the stand-ins of external_stubs.php).
require_once(__DIR__ . '/bootstrap.php');
require_once(__DIR__ . '/external_stubs.php');

use core_external\external_description;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;

function describe(external_description $node): array {
    $required = $node->required === VALUE_REQUIRED;
    if ($node instanceof external_single_structure) {
        $keys = [];
        foreach ($node->keys as $name => $child) {
            $keys[$name] = describe($child);
        }
        return ['type' => 'object', 'required' => $required, 'keys' => (object) $keys];
    }
    if ($node instanceof external_multiple_structure) {
        return ['type' => 'list', 'required' => $required, 'content' => describe($node->content)];
    }
    if ($node instanceof external_value) {
        $types = [PARAM_INT => 'int', PARAM_FLOAT => 'float', PARAM_BOOL => 'bool'];
        $out = ['type' => $types[$node->type] ?? 'string', 'param' => $node->type, 'required' => $required,
            'nullable' => (bool) $node->allownull];
        if ($node->required === VALUE_DEFAULT) {
            $out['default'] = $node->default;
        }
        return $out;
    }
    throw new InvalidArgumentException(get_class($node));
}

$class = \local_ltibadges\external\get_course_facts::class;
echo json_encode([
    'parameters' => describe($class::execute_parameters()),
    'returns' => describe($class::execute_returns()),
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
