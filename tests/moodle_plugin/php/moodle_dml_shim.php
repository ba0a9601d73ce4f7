<?php
// Just enough of Moodle to run \local_ltibadges\local\course_facts against a real SQL engine
// (SQLite through PDO): a $DB with Moodle's DML rules ({table} names, named placeholders used
// once each and all of them bound, values returned as strings, limitfrom/limitnum), Moodle's
// get_enrolled_sql() query shape, the tables' Moodle column names, and small stand-ins for
// modinfo, names and strings. It counts the rows every query returns, so that a test can show
// that a page's reads do not grow with the course.

if (!defined('SQL_PARAMS_NAMED')) {
    define('SQL_PARAMS_NAMED', 1);
}

final class shim_dml_exception extends Exception {
}

final class shim_recordset implements IteratorAggregate {
    private $rows;

    public function __construct(array $rows) {
        $this->rows = $rows;
    }

    public function getIterator(): Iterator {
        foreach ($this->rows as $row) {
            yield (object) $row;
        }
    }

    public function close(): void {
        $this->rows = [];
    }
}

final class shim_database {
    /** @var PDO */
    public $pdo;
    /** @var int rows returned by all queries since the last reset */
    public $rowsread = 0;
    /** @var string[] the SQL of every query */
    public $queries = [];

    public function __construct() {
        $this->pdo = new PDO('sqlite::memory:');
        $this->pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
        $this->pdo->setAttribute(PDO::ATTR_STRINGIFY_FETCHES, true);
        $this->pdo->setAttribute(PDO::ATTR_DEFAULT_FETCH_MODE, PDO::FETCH_ASSOC);
    }

    /** Moodle's fix_sql_params() rules for named parameters. */
    private function run(string $sql, array $params, int $from = 0, int $num = 0): array {
        $sql = preg_replace('/\{([a-z][a-z0-9_]*)\}/', 'mdl_$1', $sql);
        if (strpos($sql, '?') !== false && $params && !array_key_exists(0, $params)) {
            throw new shim_dml_exception('mixed placeholder types');
        }
        preg_match_all('/(?<!:):([a-z][a-z0-9_]*)/', $sql, $m);
        $names = $m[1];
        if (count($names) !== count(array_unique($names))) {
            throw new shim_dml_exception('duplicateparaminsql: ' . implode(',', $names));
        }
        foreach ($names as $name) {
            if (!array_key_exists($name, $params)) {
                throw new shim_dml_exception("missing parameter :$name");
            }
        }
        if ($names && count($params) !== count($names)) {
            throw new shim_dml_exception('unused parameters: '
                . implode(',', array_diff(array_keys($params), $names)));
        }
        if ($num > 0) {
            $sql .= " LIMIT $num OFFSET $from";
        }
        $this->queries[] = $sql;
        $statement = $this->pdo->prepare($sql);
        // Typed binding: PostgreSQL infers a placeholder's type from its context, SQLite would
        // compare a text-bound number with an expression (COALESCE) as text.
        foreach ($params as $name => $value) {
            $statement->bindValue(is_int($name) ? $name + 1 : ":$name", $value,
                is_int($value) ? PDO::PARAM_INT : (is_null($value) ? PDO::PARAM_NULL : PDO::PARAM_STR));
        }
        $statement->execute();
        $rows = $statement->fetchAll();
        $this->rowsread += count($rows);
        return $rows;
    }

    public function get_recordset_sql(string $sql, array $params = [], int $from = 0, int $num = 0): shim_recordset {
        return new shim_recordset($this->run($sql, $params, $from, $num));
    }

    public function get_field_sql(string $sql, array $params = []) {
        $rows = $this->run($sql, $params);
        return $rows ? reset($rows[0]) : false;
    }

    /** Moodle's get_in_or_equal() for named parameters (each call with fresh names). */
    public function get_in_or_equal(array $items, int $type = SQL_PARAMS_NAMED, string $prefix = 'param'): array {
        static $index = 1;
        $params = [];
        foreach ($items as $item) {
            $params[$prefix . $index++] = $item;
        }
        $names = array_map(function ($n) {
            return ':' . $n;
        }, array_keys($params));
        return [count($names) === 1 ? '= ' . $names[0] : 'IN (' . implode(',', $names) . ')', $params];
    }

    public function count_records_sql(string $sql, array $params = []): int {
        $row = $this->run($sql, $params)[0];
        return (int) reset($row);
    }

    public function exec(string $sql): void {
        $this->pdo->exec($sql);
    }

    public function insert(string $table, array $rows): void {
        $this->pdo->beginTransaction();
        foreach ($rows as $row) {
            $columns = array_keys($row);
            $statement = $this->pdo->prepare("INSERT INTO mdl_$table (" . implode(',', $columns) . ') VALUES ('
                . implode(',', array_fill(0, count($columns), '?')) . ')');
            $statement->execute(array_values($row));
        }
        $this->pdo->commit();
    }
}

final class context_course {
    public $id;
    public $instanceid;

    public function __construct(int $id, int $courseid) {
        $this->id = $id;
        $this->instanceid = $courseid;
    }
}

final class course_modinfo {
    public $instances = [];
    private $cms = [];

    public function __construct(array $cms) {
        foreach ($cms as $cm) {
            $this->cms[$cm->id] = $cm;
            $this->instances[$cm->modname][$cm->instance] = $cm;
        }
    }

    public function get_cms(): array {
        return $this->cms;
    }
}

/** Moodle's course cache, read straight from the tables (the shim's course_modules has a name). */
function get_fast_modinfo($courseid): course_modinfo {
    global $DB;
    $rows = $DB->pdo->query('SELECT cm.id, cm.instance, cm.completion, cm.deletioninprogress, cm.name, m.name AS modname
        FROM mdl_course_modules cm JOIN mdl_modules m ON m.id = cm.module WHERE cm.course = ' . (int) $courseid
        . ' ORDER BY cm.id')->fetchAll();
    return new course_modinfo(array_map(function ($row) {
        return (object) $row;
    }, $rows));
}

/** The query shape of Moodle's get_enrolled_sql() (lib/enrollib.php), each call with its own prefix. */
function get_enrolled_sql(context_course $context, $withcapability = '', $groupids = 0, $onlyactive = false): array {
    static $i = 0;
    $i++;
    $p = "eu{$i}_";
    $params = ["{$p}courseid" => $context->instanceid];
    $where = "{$p}u.deleted = 0";
    if ($onlyactive) {
        $where .= " AND {$p}ue.status = :{$p}active AND {$p}e.status = :{$p}enabled AND {$p}ue.timestart < :{$p}now1
            AND ({$p}ue.timeend = 0 OR {$p}ue.timeend > :{$p}now2)";
        $now = time();
        $params += ["{$p}active" => 0, "{$p}enabled" => 0, "{$p}now1" => $now, "{$p}now2" => $now];
    }
    $sql = "SELECT DISTINCT {$p}u.id
              FROM {user} {$p}u
              JOIN {user_enrolments} {$p}ue ON {$p}ue.userid = {$p}u.id
              JOIN {enrol} {$p}e ON ({$p}e.id = {$p}ue.enrolid AND {$p}e.courseid = :{$p}courseid)
             WHERE $where";
    return [$sql, $params];
}

function fullname($user, $override = false): string {
    return trim($user->firstname . ' ' . $user->lastname);
}

function get_string($identifier, $component = '', $a = null): string {
    return "[[$identifier,$component]]";
}
