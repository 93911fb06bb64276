// What to configure on a phone so it reaches APS: the DHCP site-specific option string and craft values.
// 16CC admin guide p.69 [V]: the options can come from the DHCP site-specific option or the settings
// file, and Avaya prefers the file because DHCP limits the option's length; the option number is 242 on
// 96xx/96x1/16xx/J100 and 176 on 4600 [U for the 16CC].
import type { AdapterServices, DeviceRecord, DeviceSetup } from '../../src/adapter-api.ts';
import { NAME, profileSettings } from './files.ts';
import { groupNumber, SETTINGS_FILE, VARS } from './settings.ts';

interface Server {
  host: string;
  port: string;
  dir: string;
}

function server(url: string): Server {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  // HTTPDIR: the path the phone puts before every file name (no leading slash needed).
  const dir = `${u.pathname.replace(/^\/+|\/+$/g, '')}/${NAME}`.replace(/^\//, '');
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port, dir };
}

/** The DHCP option string: HTTPSRVR/HTTPDIR/HTTPPORT, plus TLSSRVR/TLSPORT when HTTPS is served. */
export function dhcpOption(urls: { http: string; https: string | null }): string {
  const h = server(urls.http);
  const parts = [`HTTPSRVR=${h.host}`, `HTTPDIR=${h.dir}`, `HTTPPORT=${h.port}`];
  if (urls.https) {
    const t = server(urls.https);
    parts.push(`TLSSRVR=${t.host}`, `TLSPORT=${t.port}`);
  }
  return parts.join(',');
}

export function avayaSetup(device: DeviceRecord, core: AdapterServices): DeviceSetup {
  const profile = core.profiles.require(device.profile);
  const script = profileSettings(profile).upgradeScripts[0] ?? '16xxupgrade.txt';
  const base = `${core.urls.http}/${NAME}/`;
  const option = dhcpOption(core.urls);
  const h = server(core.urls.http);
  const group = device.group ? core.devices.group(device.group) : undefined;
  const number = group ? groupNumber(group.name, group.vars) : null;
  return {
    url: `${base}${script}`,
    settingsUrl: `${base}${SETTINGS_FILE}`,
    deviceUrl: device.mac ? `${base}${device.mac}.txt` : `${base}<MAC>.txt`,
    httpsUrl: core.urls.https ? `${core.urls.https}/${NAME}/${script}` : null,
    dhcpOption: option,
    ...(device.passwordHash ? { credentials: { username: device.id, password: '(the password set on this device)' } } : {}),
    hints: [
      `DHCP site-specific option 242 (96xx, 96x1, 16xx, 16CC, J100; 176 on 4600), a string: "${option}"`,
      `Or on the phone (craft / admin menu): HTTP file server ${h.host}, port ${h.port}, HTTPDIR ${h.dir}${core.urls.https ? `; HTTPS (TLS) server ${server(core.urls.https).host} port ${server(core.urls.https).port}` : ''}.`,
      number !== null
        ? `Craft GROUP procedure: set GROUP to ${number} (group ${group!.name}); 46xxsettings.txt gives group ${number} its parameters.`
        : group
          ? `Group ${group.name} has no GROUP number (set its variable ${VARS.groupNumber} to 0-999): its parameters go into this phone's own file instead.`
          : 'Leave GROUP at 0 (no group).',
      `Secret lines of ${device.mac ?? '<MAC>'}.txt (SIP password…) are served only over HTTPS (or plain HTTP where the group sets ${VARS.secretsOverHttp}=1), and only to clients in ${VARS.secretNetworks} or sending Basic credentials (device id and password).`,
      'For `aps notify` (SIP NOTIFY Event: check-sync, the phone reboots and reads its files again): set the device variables sip_host (and sip_port, sip_user); on J100 also SET ENABLE_OOD_RESET_NOTIFY 1 (variable ENABLE_OOD_RESET_NOTIFY=1 on the profile).',
    ],
  };
}
