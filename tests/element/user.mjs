// A Matrix test user on Element's own stack: matrix-js-sdk with its Rust crypto
// (@matrix-org/matrix-sdk-crypto-wasm), in the "exclude insecure devices" mode Element uses
// (MSC4153, OnlySignedDevicesIsolationMode).
//
// Protocol (driven by tests/element_user.py): one JSON object per line.
//   stdin:  commands {"id": n, "cmd": "start" | "create_room" | "join" | "send" | "device_status" | "stop", ...}
//   stdout: replies {"id": n, "ok": true, ...} / {"id": n, "ok": false, "error": "..."}
//           and unsolicited events {"event": "message" | "undecryptable" | "invite" | "member", ...}
//   stderr: logs (the sdk's logger at warn level; ELEMENT_USER_DEBUG=1 for everything).

// matrix-js-sdk 43 declares Node >= 22; on Node 20 this is the one missing piece it uses.
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve;
        let reject;
        const promise = new this((res, rej) => {
            resolve = res;
            reject = rej;
        });
        return { promise, resolve, reject };
    };
}

// Nothing but protocol lines may reach stdout: loglevel (the sdk's logger) sends some levels to
// console.log, so every console method goes to stderr.
const DEBUG = Boolean(process.env.ELEMENT_USER_DEBUG);
const toStderr = (...args) => process.stderr.write(args.map(format).join(" ") + "\n");
console.log = console.info = console.warn = console.error = toStderr;
console.debug = console.trace = DEBUG ? toStderr : () => {};

function format(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack ?? String(value);
    try {
        return JSON.stringify(value);
    } catch {
        return String(value);
    }
}

const sdk = await import("matrix-js-sdk");
const {
    ClientEvent,
    createClient,
    EventStatus,
    MatrixEventEvent,
    RoomEvent,
    RoomStateEvent,
} = sdk;
const { OnlySignedDevicesIsolationMode } = await import("matrix-js-sdk/lib/crypto-api/index.js");

/** A Logger for the sdk (and the Rust crypto behind it): warn and error to stderr, the rest dropped. */
function makeLogger(prefix) {
    const quiet = DEBUG ? (...args) => toStderr(`${prefix}`, ...args) : () => {};
    return {
        trace: quiet,
        debug: quiet,
        info: quiet,
        warn: (...args) => toStderr(`${prefix} WARN`, ...args),
        error: (...args) => toStderr(`${prefix} ERROR`, ...args),
        getChild: (name) => makeLogger(`${prefix}${name}`),
    };
}

function emit(object) {
    process.stdout.write(JSON.stringify(object) + "\n");
}

let client = null;
let userId = null;
let password = null;

// ---- waiting: re-check a condition whenever the client reports progress --------------------------

/** Resolve once `check()` is truthy; re-checked after every sync and room change (and every 250 ms). */
function until(check, timeoutMs, what) {
    return new Promise((resolve, reject) => {
        let done = false;
        const events = [ClientEvent.Sync, ClientEvent.Room, RoomEvent.MyMembership, RoomStateEvent.Events];
        const finish = (error, value) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            clearInterval(ticker);
            for (const name of events) client.off(name, probe);
            if (error) reject(error);
            else resolve(value);
        };
        const probe = () => {
            Promise.resolve()
                .then(check)
                .then((value) => value && finish(null, value))
                .catch((error) => finish(error));
        };
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
        const ticker = setInterval(probe, 250);
        for (const name of events) client.on(name, probe);
        probe();
    });
}

// ---- reporting room events ----------------------------------------------------------------------

const reported = new Set(); // event ids reported as "message"
const failures = new Map(); // event id -> last reported failure code
const watched = new Set(); // encrypted events with a Decrypted listener

function report(event) {
    const eventId = event.getId();
    if (!eventId || eventId.startsWith("~") || reported.has(eventId)) return;
    if (event.isEncrypted() && (event.isBeingDecrypted() || event.shouldAttemptDecryption())) return;
    const roomId = event.getRoomId();
    if (event.isDecryptionFailure()) {
        const code = event.decryptionFailureReason ?? "UNKNOWN_ERROR";
        if (failures.get(eventId) === code) return;
        failures.set(eventId, code);
        emit({
            event: "undecryptable",
            room_id: roomId,
            event_id: eventId,
            sender: event.getSender(),
            code,
            reason: String(event.getContent()?.body ?? ""),
        });
        return;
    }
    reported.add(eventId);
    emit({
        event: "message",
        room_id: roomId,
        event_id: eventId,
        sender: event.getSender(),
        type: event.getType(),
        content: event.getContent(),
        encrypted: event.isEncrypted(),
    });
}

function track(event) {
    if (event.isEncrypted() && !watched.has(event)) {
        // A failure may turn into a success later (a key arrives): keep listening.
        watched.add(event);
        event.on(MatrixEventEvent.Decrypted, () => report(event));
    }
    report(event);
}

function listen() {
    client.on(RoomEvent.Timeline, (event, _room, toStartOfTimeline) => {
        if (toStartOfTimeline || event.status !== null) return; // history, or our own local echo
        track(event);
    });
    client.on(RoomEvent.LocalEchoUpdated, (event) => {
        // Our own events: reported once the server has given them their id.
        if (event.status === EventStatus.SENT || event.status === null) track(event);
    });
    client.on(RoomEvent.MyMembership, (room, membership) => {
        if (membership !== "invite") return;
        const me = room.currentState.getMember(userId);
        const inviter = me?.events?.member?.getSender() ?? room.getDMInviter() ?? null;
        emit({ event: "invite", room_id: room.roomId, inviter });
    });
    client.on(RoomStateEvent.Members, (_event, _state, member) => {
        emit({ event: "member", room_id: member.roomId, user_id: member.userId, membership: member.membership });
    });
}

// ---- commands -------------------------------------------------------------------------------------

async function start({ homeserver, user_id, password: secret }) {
    if (client) throw new Error("already started");
    password = secret;
    const login = await createClient({ baseUrl: homeserver, logger: makeLogger("[login] ") }).loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: user_id },
        password: secret,
        initial_device_display_name: "Element test",
    });
    userId = login.user_id;
    client = createClient({
        baseUrl: homeserver,
        userId,
        deviceId: login.device_id,
        accessToken: login.access_token,
        logger: makeLogger(`[${userId}] `),
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    await crypto.bootstrapCrossSigning({
        setupNewCrossSigning: true,
        authUploadDeviceSigningKeys: async (makeRequest) => {
            try {
                return await makeRequest(null); // a fresh account needs no UIA (MSC3967)
            } catch (error) {
                if (error?.httpStatus !== 401 || !error.data?.flows) throw error;
                toStderr("cross-signing upload: answering the UIA with the password");
                return await makeRequest({
                    type: "m.login.password",
                    identifier: { type: "m.id.user", user: userId },
                    password,
                    session: error.data.session,
                });
            }
        },
    });
    listen();
    const prepared = new Promise((resolve, reject) => {
        const onSync = (state, _previous, data) => {
            if (state === "PREPARED") {
                client.off(ClientEvent.Sync, onSync);
                resolve();
            } else if (state === "ERROR" && !client.isInitialSyncComplete()) {
                toStderr("sync error during start:", data?.error ?? state);
            }
        };
        client.on(ClientEvent.Sync, onSync);
    });
    await client.startClient({ initialSyncLimit: 5, lazyLoadMembers: false });
    await prepared;
    const ready = await crypto.isCrossSigningReady();
    const own = await crypto.getDeviceVerificationStatus(userId, client.getDeviceId());
    if (!ready || !own?.signedByOwner) {
        throw new Error(`cross-signing not set up (ready=${ready}, own device signed=${own?.signedByOwner})`);
    }
    return { user_id: userId, device_id: client.getDeviceId(), cross_signing_ready: ready };
}

function requireClient() {
    if (!client) throw new Error("not started");
    return client;
}

/** Wait until we are joined and, if the room is encrypted, the crypto knows it. */
async function joinedAndReady(roomId, timeoutMs = 30000) {
    const crypto = client.getCrypto();
    await until(
        async () => {
            const room = client.getRoom(roomId);
            if (!room || room.getMyMembership() !== "join") return false;
            return !room.hasEncryptionStateEvent() || (await crypto.isEncryptionEnabledInRoom(roomId));
        },
        timeoutMs,
        `joined ${roomId}`,
    );
    return { room_id: roomId, encrypted: await crypto.isEncryptionEnabledInRoom(roomId) };
}

async function createRoom({ name, invite = [], encrypted = true }) {
    requireClient();
    const initial_state = encrypted
        ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
        : [];
    const { room_id } = await client.createRoom({ name, invite, initial_state });
    return joinedAndReady(room_id);
}

async function join({ room_id, attempts = 10 }) {
    requireClient();
    for (let attempt = 1; ; attempt++) {
        try {
            await client.joinRoom(room_id);
            break;
        } catch (error) {
            // The invite may not have reached the room yet.
            if (error?.httpStatus !== 403 || attempt >= attempts) throw error;
            await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
    }
    return joinedAndReady(room_id);
}

async function send({ room_id, body, msgtype = "m.text", content, event_type }) {
    requireClient();
    // An event_type other than m.room.message is what Element sends for a click (a poll answer).
    const response = event_type
        ? await client.sendEvent(room_id, event_type, content)
        : await client.sendMessage(room_id, content ?? { msgtype, body });
    return { event_id: response.event_id };
}

async function deviceStatus({ user_id, device_id }) {
    const crypto = requireClient().getCrypto();
    await crypto.getUserDeviceInfo([user_id], true);
    const status = await crypto.getDeviceVerificationStatus(user_id, device_id);
    if (!status) return { known: false, signed_by_owner: null, cross_signing_verified: null, locally_verified: null };
    return {
        known: true,
        signed_by_owner: status.signedByOwner,
        cross_signing_verified: status.crossSigningVerified,
        locally_verified: status.localVerified,
    };
}

let stopping = false;

function stop() {
    stopping = true;
    if (client) client.stopClient();
    return {};
}

const commands = {
    start,
    create_room: createRoom,
    join,
    send,
    device_status: deviceStatus,
    stop,
};

async function handle(line) {
    let request;
    try {
        request = JSON.parse(line);
    } catch (error) {
        emit({ id: null, ok: false, error: `not JSON: ${error.message}` });
        return;
    }
    const { id, cmd, ...args } = request;
    const command = commands[cmd];
    try {
        if (!command) throw new Error(`unknown command ${JSON.stringify(cmd)}`);
        const result = await command(args);
        emit({ id, ok: true, ...result });
    } catch (error) {
        const detail = error?.data?.errcode ? ` (${error.httpStatus} ${error.data.errcode})` : "";
        toStderr(`command ${cmd} failed:`, error);
        emit({ id, ok: false, error: `${error?.message ?? String(error)}${detail}` });
    }
    if (cmd === "stop") process.stdout.write("", () => process.exit(0)); // after the reply is out
}

// ---- the loop: one command per line, handled concurrently ----------------------------------------

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) void handle(line);
    }
});
process.stdin.on("end", () => {
    // Our parent went away: leave quietly.
    if (!stopping) stop();
    process.exit(0);
});
process.on("unhandledRejection", (error) => toStderr("unhandled rejection:", error));
