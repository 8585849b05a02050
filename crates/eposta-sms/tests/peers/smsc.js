// A scripted SMSC for eposta-sms's integration test, on farhadi/node-smpp (npm `smpp`,
// pinned in package-lock.json). Usage: node smsc.js <port> [script]
//
// The optional script is a comma-separated list of behaviours keyed by the number of the
// submit_sm (counted from 1 over the SMSC's life, resends included):
//   status=N:S   answer the Nth submit_sm with command_status S (decimal or 0x…), no receipt
//   drop=N       close the connection when the Nth submit_sm arrives, without answering it
//
// Prints one JSON object a line on stdout, for the Rust test to read:
//   {"event":"listening","port":N}
//   {"event":"bind","system_id":…,"ok":bool}
//   {"event":"submit_sm", data_coding, esm_class, registered_delivery, dest_addr_ton,
//    dest_addr_npi, destination_addr, udh:[hex…], message, message_id}
//   {"event":"enquire_link"}              (one the client sent)
//   {"event":"enquire_link_resp","status":N}  (the client's answer to ours)
//   {"event":"deliver_sm_resp","status":N}    (the client's answer to a receipt)
//   {"event":"unbind"}
//
// The SMSC behaves like one whose ids are hexadecimal in submit_sm_resp ("0000001A") and
// decimal in receipts ("26"), Kannel's msg-id-type 1. Every second receipt also carries the
// receipted_message_id and message_state TLVs, with a wrong id and state in its text, so the
// client must prefer the TLVs.
'use strict';
const smpp = require('smpp');

const port = Number(process.argv[2]);
if (!port) {
  console.error('usage: node smsc.js <port>');
  process.exit(2);
}
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let next = 25;
let receipts = 0;
let submits = 0;
const script = { status: {}, drop: {} };
for (const item of (process.argv[3] || '').split(',').filter(Boolean)) {
  const [kind, arg] = item.split('=');
  if (kind === 'status') {
    const [n, st] = arg.split(':');
    script.status[Number(n)] = Number(st);
  } else if (kind === 'drop') {
    script.drop[Number(arg)] = true;
  } else {
    console.error('unknown script item', item);
    process.exit(2);
  }
}

const server = smpp.createServer((session) => {
  session.on('bind_transceiver', (pdu) => {
    const ok = pdu.system_id === 'eposta' && pdu.password === 'secret';
    out({ event: 'bind', system_id: pdu.system_id, ok });
    if (!ok) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    session.send(pdu.response({ system_id: 'nodesmsc' }));
    // Our own enquire_link: the client must answer it.
    setTimeout(() => {
      session.enquire_link({}, (resp) => out({ event: 'enquire_link_resp', status: resp.command_status }));
    }, 50);
  });
  session.on('enquire_link', (pdu) => {
    out({ event: 'enquire_link' });
    session.send(pdu.response());
  });
  session.on('submit_sm', (pdu) => {
    submits += 1;
    const count = submits;
    const sm0 = pdu.short_message || {};
    const udh0 = (sm0.udh || []).map((b) => b.toString('hex'));
    if (script.drop[count]) {
      out({ event: 'dropped', n: count, udh: udh0, t: Date.now() });
      session.socket.destroy();
      return;
    }
    if (script.status[count] !== undefined) {
      const command_status = script.status[count];
      out({ event: 'refused', n: count, status: command_status, udh: udh0, t: Date.now() });
      session.send(pdu.response({ command_status }));
      return;
    }
    next += 1;
    const n = next;
    const message_id = n.toString(16).toUpperCase().padStart(8, '0');
    const sm = pdu.short_message || {};
    out({
      event: 'submit_sm',
      data_coding: pdu.data_coding,
      esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      dest_addr_ton: pdu.dest_addr_ton,
      dest_addr_npi: pdu.dest_addr_npi,
      destination_addr: pdu.destination_addr,
      udh: (sm.udh || []).map((b) => b.toString('hex')),
      message: Buffer.isBuffer(sm.message) ? sm.message.toString('hex') : sm.message,
      message_id,
      n: count,
      t: Date.now(),
    });
    session.send(pdu.response({ message_id }));
    const withTlvs = receipts++ % 2 === 1;
    const now = '2511251042';
    const text = withTlvs
      ? `id:999999 sub:001 dlvrd:000 submit date:${now} done date:${now} stat:UNDELIV err:001 text:x`
      : `id:${n} sub:001 dlvrd:001 submit date:${now} done date:${now} stat:DELIVRD err:000 text:x`;
    const receipt = {
      source_addr: pdu.destination_addr,
      destination_addr: pdu.source_addr,
      esm_class: 0x04,
      short_message: Buffer.from(text, 'ascii'),
    };
    if (withTlvs) {
      receipt.receipted_message_id = String(n);
      receipt.message_state = 2;
    }
    setTimeout(() => {
      session.deliver_sm(receipt, (resp) => out({ event: 'deliver_sm_resp', status: resp.command_status }));
    }, 20);
  });
  session.on('unbind', (pdu) => {
    out({ event: 'unbind' });
    session.send(pdu.response());
    session.close();
  });
  session.on('error', (e) => console.error('session error', e.message));
});
server.on('session', (session) => out({ event: 'connect' }));
server.listen(port, '127.0.0.1', () => out({ event: 'listening', port }));
