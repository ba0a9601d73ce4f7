<?php
// Stand-in of \core_user\fields::for_name()->get_sql(): the name columns Moodle's fullname() needs.
namespace core_user;

final class fields {
    public static function for_name(): self {
        return new self();
    }

    public function get_sql(string $alias = '', bool $namedparams = false, string $prefix = '', string $renamefield = '',
            bool $leadingcomma = true): \stdClass {
        $columns = array_map(function ($c) use ($alias) {
            return ($alias ? "$alias." : '') . $c;
        }, ['firstnamephonetic', 'lastnamephonetic', 'middlename', 'alternatename', 'firstname', 'lastname']);
        return (object) ['selects' => ($leadingcomma ? ', ' : '') . implode(', ', $columns), 'joins' => '',
            'params' => [], 'mappings' => []];
    }
}
