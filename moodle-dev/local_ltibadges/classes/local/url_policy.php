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
 * Which tool URLs the plugin talks to (pure PHP: no Moodle API is used here).
 *
 * @package    local_ltibadges
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_ltibadges\local;

/**
 * Checks the pairing URL and the URLs the tool returns.
 *
 * The token travels in the pairing request, so it must go over HTTPS. Plain http is accepted
 * only for a host that cannot be a public site: loopback (localhost, *.localhost, 127.0.0.0/8,
 * ::1), host.docker.internal, and single-label names such as a Docker Compose service ("tool").
 */
class url_policy {
    /** @var string Path of the pairing endpoint, followed by the one-time code. */
    const PAIR_PATH = '/connectors/moodle/pair/';

    /**
     * Whether a host is loopback or a development-only name.
     *
     * @param string $host host name or IP literal (IPv6 with or without brackets)
     * @return bool
     */
    public static function is_dev_host(string $host): bool {
        $host = strtolower(trim($host, '[]'));
        if ($host === '') {
            return false;
        }
        if ($host === 'localhost' || substr($host, -10) === '.localhost' || $host === 'host.docker.internal') {
            return true;
        }
        if (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4)) {
            return strpos($host, '127.') === 0;
        }
        if (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6)) {
            return inet_pton($host) === inet_pton('::1');
        }
        // A single-label name never resolves on the public internet (Compose service names).
        return (bool) preg_match('/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/', $host);
    }

    /**
     * Checks that a URL may receive the token or the notices.
     *
     * @param string $url absolute URL
     * @return string|null null when acceptable, else an error code (a lang string identifier)
     */
    public static function check_tool_url(string $url): ?string {
        $parts = parse_url($url);
        if ($parts === false || empty($parts['scheme']) || empty($parts['host'])) {
            return 'error_url_invalid';
        }
        if (isset($parts['user']) || isset($parts['pass']) || isset($parts['fragment'])) {
            return 'error_url_invalid';
        }
        $scheme = strtolower($parts['scheme']);
        if ($scheme === 'https') {
            return null;
        }
        if ($scheme === 'http') {
            return self::is_dev_host($parts['host']) ? null : 'error_url_http';
        }
        return 'error_url_invalid';
    }

    /**
     * Parses a one-time pairing URL `{TOOL}/connectors/moodle/pair/{CODE}`.
     *
     * @param string $url what the admin pasted
     * @return array{url: string, tool: string, code: string}|string the parts, or an error code
     */
    public static function parse_pairing_url(string $url) {
        $url = trim($url);
        $error = self::check_tool_url($url);
        if ($error !== null) {
            return $error;
        }
        $parts = parse_url($url);
        if (isset($parts['query'])) {
            return 'error_url_notpairing';
        }
        $path = $parts['path'] ?? '';
        $at = strrpos($path, self::PAIR_PATH);
        if ($at === false) {
            return 'error_url_notpairing';
        }
        $code = substr($path, $at + strlen(self::PAIR_PATH));
        if (!preg_match('/^[A-Za-z0-9_-]{8,256}$/', $code)) {
            return 'error_url_notpairing';
        }
        // An IPv6 host keeps its brackets in parse_url().
        $origin = strtolower($parts['scheme']) . '://' . strtolower($parts['host'])
            . (isset($parts['port']) ? ':' . $parts['port'] : '');
        $tool = $origin . substr($path, 0, $at);
        return ['url' => $url, 'tool' => $tool, 'code' => $code];
    }

    /**
     * Whether the host of a URL is a development host (the pairing page says so when it is).
     *
     * @param string $url absolute URL
     * @return bool
     */
    public static function is_dev_url(string $url): bool {
        $host = parse_url($url, PHP_URL_HOST);
        return is_string($host) && self::is_dev_host($host);
    }
}
