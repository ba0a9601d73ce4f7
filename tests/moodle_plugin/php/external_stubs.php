<?php
// Minimal stand-ins for Moodle's external API description classes (core_external, Moodle 4.2+),
// with Moodle's constructor signatures and constant values, so that the plugin's
// execute_parameters() and execute_returns() can be built and dumped without Moodle.
namespace {
    foreach ([
        'PARAM_INT' => 'int', 'PARAM_FLOAT' => 'float', 'PARAM_BOOL' => 'bool', 'PARAM_RAW' => 'raw',
        'PARAM_TEXT' => 'text', 'PARAM_ALPHANUMEXT' => 'alphanumext', 'PARAM_URL' => 'url',
        'VALUE_REQUIRED' => 1, 'VALUE_OPTIONAL' => 2, 'VALUE_DEFAULT' => 0,
        'NULL_NOT_ALLOWED' => false, 'NULL_ALLOWED' => true,
    ] as $name => $value) {
        if (!defined($name)) {
            define($name, $value);
        }
    }
}

namespace core_external {
    abstract class external_description {
        public $desc;
        public $required;
        public $default;

        public function __construct($desc, $required, $default) {
            $this->desc = $desc;
            $this->required = $required;
            $this->default = $default;
        }
    }

    class external_value extends external_description {
        public $type;
        public $allownull;

        public function __construct($type, $desc = '', $required = VALUE_REQUIRED, $default = null,
                $allownull = NULL_ALLOWED) {
            parent::__construct($desc, $required, $default);
            $this->type = $type;
            $this->allownull = $allownull;
        }
    }

    class external_single_structure extends external_description {
        public $keys;

        public function __construct(array $keys = [], $desc = '', $required = VALUE_REQUIRED, $default = null) {
            parent::__construct($desc, $required, $default);
            foreach ($keys as $key => $value) {
                if (!$value instanceof external_description) {
                    throw new \InvalidArgumentException("$key is not an external_description");
                }
            }
            $this->keys = $keys;
        }
    }

    class external_multiple_structure extends external_description {
        public $content;

        public function __construct(external_description $content, $desc = '', $required = VALUE_REQUIRED,
                $default = null) {
            parent::__construct($desc, $required, $default);
            $this->content = $content;
        }
    }

    class external_function_parameters extends external_single_structure {
    }

    class external_api {
    }
}
