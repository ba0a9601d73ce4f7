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
 * Chaînes françaises de local_ltibadges.
 *
 * @package    local_ltibadges
 * @category   string
 * @copyright  2026 lti-badges contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['allcourses'] = 'Signaler les changements de tous les cours';
$string['allcourses_desc'] = 'Désactivé : l\'outil n\'est averti que des changements dans les cours qui contiennent une activité d\'un des outils appairés. Activé : des changements dans tous les cours.';
$string['clihelp'] = 'Appaire ce Moodle avec un outil lti-badges.

Options :
  --url=URL    l\'URL d\'appairage à usage unique affichée par l\'outil ({OUTIL}/connectors/moodle/pair/{CODE})
  -h, --help   cette aide

Exemple :
  php local/ltibadges/cli/pair.php --url=https://badges.example.edu/connectors/moodle/pair/AbC123xyz';
$string['devhostwarning'] = 'L\'outil est sur une adresse locale ou de développement : le http simple n\'est accepté que dans ce cas. Utilisez https pour tout autre outil. Par défaut, les réglages de sécurité cURL de Moodle bloquent les adresses locales : retirez-les de la « Liste des hôtes bloqués par cURL » (et ajoutez le port aux « Ports autorisés par cURL ») pour un outil sur cette machine.';
$string['disablenotices'] = 'Arrêter les avis';
$string['disablenotices_desc'] = 'Aucun avis de changement n\'est envoyé à l\'outil. L\'outil lit toujours les cours par le service web.';
$string['error_blocked'] = 'Les réglages de sécurité cURL de Moodle bloquent {$a}. Une personne administratrice doit modifier la « Liste des hôtes bloqués par cURL » ou les « Ports autorisés par cURL » (Administration du site > Généralités > Sécurité > Sécurité HTTP).';
$string['error_noticeretry'] = 'L\'outil n\'a pas pris l\'avis, il sera renvoyé plus tard : {$a}';
$string['error_url_http'] = 'L\'URL doit commencer par https:// (le http simple n\'est accepté que pour une adresse locale ou de développement comme localhost).';
$string['error_url_invalid'] = 'Cette adresse web n\'est pas valide.';
$string['error_url_notpairing'] = 'Ce n\'est pas une URL d\'appairage. Elle a la forme https://OUTIL/connectors/moodle/pair/CODE : copiez-la telle que l\'outil l\'a affichée.';
$string['ltibadges:readcoursefacts'] = 'Lire les notes et les achèvements de toutes les personnes participantes d\'un cours (connecteur lti-badges)';
$string['pairbutton'] = 'Appairer';
$string['paired'] = 'Appairé avec {$a->tool} : client_id {$a->clientid}, déploiements {$a->deployments}.';
$string['pairerror_already_used'] = 'Cette URL d\'appairage a déjà servi. Demandez-en une nouvelle à l\'administration de l\'outil.';
$string['pairerror_bad_answer'] = 'La réponse de l\'outil est incompréhensible.';
$string['pairerror_bad_request'] = 'L\'outil a refusé la demande d\'appairage.';
$string['pairerror_expired'] = 'Cette URL d\'appairage a expiré (elle est valable 24 heures). Demandez-en une nouvelle à l\'administration de l\'outil.';
$string['pairerror_no_answer'] = 'L\'outil n\'a pas répondu : {$a}';
$string['pairerror_site_mismatch'] = 'L\'outil connaît cette plateforme sous une autre adresse que celle de ce site.';
$string['pairerror_token_rejected'] = 'L\'outil n\'a pas pu utiliser le jeton.';
$string['pairerror_unknown_code'] = 'L\'outil ne connaît pas cette URL d\'appairage. Vérifiez qu\'elle a été copiée en entier.';
$string['pairingurl'] = 'URL d\'appairage';
$string['pairingurl_help'] = 'L\'URL à usage unique affichée par l\'outil lti-badges (valable 24 heures, une seule fois).';
$string['pairintro'] = 'L\'appairage fait en une étape ce que demande la configuration manuelle : il active les services web et le protocole REST, crée (ou reprend) le compte « ltibadgesconnector » et le rôle système « Connecteur LTI badges » avec exactement les capacités dont l\'outil a besoin, crée un jeton de service web sans expiration pour le service « LTI badges connector », et transmet ce jeton à l\'outil en HTTPS.';
$string['pairlink'] = 'Appairer avec un outil';
$string['pairtitle'] = 'Appairer avec un outil lti-badges';
$string['pairtoolsaid'] = 'Réponse de l\'outil : {$a}';
$string['pluginname'] = 'Connecteur LTI badges';
$string['privacy:metadata:tool'] = 'L\'outil lti-badges appairé décerne des Open Badges. Le plugin l\'avertit quand la note, l\'achèvement ou l\'inscription d\'une personne change, et l\'outil lit les données du cours par le service web.';
$string['privacy:metadata:tool:completions'] = 'États et dates d\'achèvement des activités et du cours.';
$string['privacy:metadata:tool:courseid'] = 'L\'identifiant du cours.';
$string['privacy:metadata:tool:email'] = 'L\'adresse de courriel de la personne.';
$string['privacy:metadata:tool:enrolments'] = 'Les rôles et l\'état d\'inscription de la personne dans le cours.';
$string['privacy:metadata:tool:fullname'] = 'Le nom de la personne.';
$string['privacy:metadata:tool:grades'] = 'Les notes de la personne et leurs dates.';
$string['privacy:metadata:tool:idnumber'] = 'Le numéro d\'identification de la personne.';
$string['privacy:metadata:tool:userid'] = 'L\'identifiant de la personne (le sujet LTI).';
$string['roledescription'] = 'Rôle de service web du connecteur lti-badges : lit les cours, les notes et les achèvements. Créé par local_ltibadges ; ses capacités sont remises à zéro à chaque appairage.';
$string['rolename'] = 'Connecteur LTI badges';
$string['settings'] = 'Réglages';
$string['status'] = 'Appairage';
$string['statusnotpaired'] = 'Pas appairé avec un outil.';
$string['statuspaired'] = 'Appairé avec {$a->tool} (client_id {$a->clientid}, déploiements {$a->deployments}) ; les avis vont à {$a->noticesurl}.';
$string['tasksendnotice'] = 'Envoyer un avis de changement à l\'outil lti-badges';
$string['tokenexpirywarning'] = 'Le jeton créé par l\'appairage n\'expire pas. Un jeton créé à la main (Administration du site > Serveur > Services web > Gérer les jetons) expire par défaut au bout de 30 jours dans les versions récentes de Moodle : l\'outil ne voit alors plus les notes ni les achèvements. Si vous en créez un à la main, videz sa date d\'expiration ou renouvelez-le à temps.';
