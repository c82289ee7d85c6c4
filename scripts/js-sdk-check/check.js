// Points the official Genesys JavaScript SDK (purecloud-platform-client-v2)
// at the emulator with setGateway, as a user would: log in with client
// credentials, create a channel, subscribe, then read events and heartbeats
// over a plain `ws` socket on the returned connectUri.
// Usage: node check.js BASE_URL CLIENT_ID SECRET
const platformClient = require('purecloud-platform-client-v2');
const WebSocket = require('ws');

const [base, clientId, secret] = process.argv.slice(2);
const url = new URL(base);

async function main() {
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: url.hostname, protocol: url.protocol.replace(':', ''),
                      port: Number(url.port) });
  await client.loginClientCredentialsGrant(clientId, secret);
  console.log('sdk: logged in');
  const api = new platformClient.NotificationsApi();
  const channel = await api.postNotificationsChannels();
  console.log(`sdk: channel ${channel.id} ${channel.connectUri}`);
  const topic = 'v2.users.6d2c5a1e-0000-0000-0000-000000000001.presence';
  const subs = await api.putNotificationsChannelSubscriptions(channel.id, [{ id: topic }]);
  console.log(`sdk: subscribed ${subs.entities.map((e) => e.id).join(', ')}`);
  const listed = await api.getNotificationsChannelSubscriptions(channel.id);
  if (listed.entities.length !== 1) throw new Error('subscription list is wrong');
  const channels = await api.getNotificationsChannels();
  if (!channels.entities.some((c) => c.id === channel.id)) throw new Error('channel not listed');
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(channel.connectUri);
    let events = 0, heartbeats = 0;
    const timer = setTimeout(() => reject(new Error(
      `timeout: ${events} events, ${heartbeats} heartbeats`)), 15000);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.topicName === 'channel.metadata') heartbeats++;
      else if (msg.topicName === topic && msg.metadata && msg.metadata.CorrelationId) events++;
      if (events >= 5 && heartbeats >= 2) {
        clearTimeout(timer);
        console.log(`sdk: received ${events} events and ${heartbeats} heartbeats`);
        ws.close();
        resolve();
      }
    });
    ws.on('error', reject);
  });
  console.log('sdk: OK');
}

main().catch((e) => { console.error('sdk: FAILED', e && (e.message || e.body || e)); process.exit(1); });
