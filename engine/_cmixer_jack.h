/* The JACK MIDI input owned by C: note-ons reach the mixer without Python, at a constant latency.
 * Private to _cmixer.c (included once, after _cmixer_state.h); the public names are in _cmixer.h.
 *
 * libjack is loaded at run time (dlopen "libjack.so.0"; no JACK headers are needed: the few
 * types and prototypes used are declared below), so the mixer builds and works without it;
 * ganshot_jack_available() then says why not.
 *
 * Threads and rings (lock-free SPSC, like the mixer's own):
 *   JACK MIDI client's process callback (JACK's thread) -> note ring -> the mixer (ganshot_mix)
 *       a note-on whose note the published table maps to a buffer, stamped with its JACK frame
 *       (jack_last_frame_time + the event's offset) and the period it arrived in;
 *   the same callback -> other ring -> Python (engine/jack_midi.py): every other message (CC,
 *       pitch bend, program change, note-off, a note the table does not play), and each played
 *       note-on flagged GANSHOT_MIDI_PLAYED (Python moves the focus to its pad).
 * A full ring drops what does not fit and counts it; nothing waits.
 *
 * Constant latency: the mixer reads jack_last_frame_time too, at each block. The first block it
 * mixes in a JACK cycle starting at frame T starts at mixer frame F (on PortAudio's JACK host
 * API the PortAudio callback runs inside JACK's process cycle), so a note of JACK frame J
 * starts at mixer frame F + (J - T) + period: exactly one period after it was sent, whichever
 * of the two clients JACK runs first in a cycle (or both at once). Frame differences are taken
 * in 32 bits: jack_nframes_t wraps every 2^32 frames (25 h at 48 kHz).
 *
 * The note table (ganshot_note_table, Python's memory) is swapped in by one pointer store;
 * the process callback loads it once per cycle and counts, in table->pushed, the notes of that
 * table it sent. Python frees an old table (and its buffers) once the callback has completed
 * two cycles since the swap (nobody pushes to it any more) and every pushed note came back on
 * the mixer's finished ring (token GANSHOT_MIDI_TOKEN_BASE + table->generation).
 */
#ifndef GANSHOT_CMIXER_JACK_H
#define GANSHOT_CMIXER_JACK_H

#include <dlfcn.h>
#include <stdio.h>

typedef uint32_t gj_nframes;
typedef struct { gj_nframes time; size_t size; unsigned char *buffer; } gj_midi_event;
enum { GJ_NO_START_SERVER = 0x01, GJ_PORT_IS_INPUT = 0x1, GJ_PORT_IS_OUTPUT = 0x2 };
#define GJ_MIDI_TYPE "8 bit raw midi" /* JACK_DEFAULT_MIDI_TYPE */

static struct { /* libjack's functions, resolved once by gj_load() (a Python thread) */
    void *(*client_open)(const char *, int, int *, ...);
    int (*client_close)(void *);
    void *(*port_register)(void *, const char *, const char *, unsigned long, unsigned long);
    int (*set_process_callback)(void *, int (*)(gj_nframes, void *), void *);
    void (*on_shutdown)(void *, void (*)(void *), void *);
    int (*activate)(void *);
    int (*deactivate)(void *);
    void *(*port_get_buffer)(void *, gj_nframes);
    uint32_t (*midi_get_event_count)(void *);
    int (*midi_event_get)(gj_midi_event *, void *, uint32_t);
    gj_nframes (*last_frame_time)(const void *);
    const char *(*port_name)(const void *);
    int (*connect)(void *, const char *, const char *);
    int (*disconnect)(void *, const char *, const char *);
    const char **(*get_ports)(void *, const char *, const char *, unsigned long);
    void (*free)(void *);
    gj_nframes (*get_buffer_size)(void *);
} gj;
static int gj_state; /* 0: not tried, 1: loaded, -1: failed (gj_why says why) */
static char gj_why[256];

static int gj_load(void) {
    if (gj_state) return gj_state > 0;
    static const char *const names[] = {
        "jack_client_open", "jack_client_close", "jack_port_register", "jack_set_process_callback",
        "jack_on_shutdown", "jack_activate", "jack_deactivate", "jack_port_get_buffer",
        "jack_midi_get_event_count", "jack_midi_event_get", "jack_last_frame_time", "jack_port_name",
        "jack_connect", "jack_disconnect", "jack_get_ports", "jack_free", "jack_get_buffer_size"};
    void *lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(gj_why, sizeof gj_why, "libjack.so.0 not found (%s); install JACK (libjack-jackd2-0)", dlerror());
        gj_state = -1;
        return 0;
    }
    void **slots = (void **)&gj;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *f = dlsym(lib, names[i]);
        if (!f) {
            snprintf(gj_why, sizeof gj_why, "libjack.so.0 has no %s (JACK too old?)", names[i]);
            gj_state = -1;
            return 0;
        }
        slots[i] = f; /* POSIX: function and object pointers share a representation */
    }
    gj_state = 1;
    return 1;
}

typedef struct { /* a note-on on its way to the mixer */
    uint32_t jack_frame, period;
    uint32_t group;
    float gain_l, gain_r;
    const float *buffer;
    int64_t frames;
    uint64_t token;
} gm_note;

#define GM_NOTE_MASK (GANSHOT_MIDI_NOTE_RING - 1)
#define GM_OTHER_MASK (GANSHOT_MIDI_OTHER_RING - 1)

struct ganshot_midi {
    ganshot_state *mixer;
    void *client, *port; /* NULL, NULL: a fake for tests (ganshot_midi_fake) */
    gm_note notes[GANSHOT_MIDI_NOTE_RING];
    ganshot_midi_message other[GANSHOT_MIDI_OTHER_RING];
    /* the mixer's (whoever mixes): the JACK cycle its current blocks belong to */
    uint32_t cycle_frame;
    int64_t cycle_mixer_frame;
    int32_t cycle_known;
    /* the JACK MIDI thread's: the last cycle it ran in (cycles missed between two are counted) */
    uint32_t last_cycle;
    int32_t last_cycle_known;
    alignas(64) _Atomic(ganshot_note_table *) table;
    alignas(64) _Atomic uint64_t note_head;  /* consumer: mixer */
    alignas(64) _Atomic uint64_t note_tail;  /* producer: JACK MIDI thread */
    alignas(64) _Atomic uint64_t other_head; /* consumer: Python */
    alignas(64) _Atomic uint64_t other_tail; /* producer: JACK MIDI thread */
    alignas(64) _Atomic uint64_t cycles, events, notes_played, notes_forwarded, note_ring_drops,
        other_ring_drops, garbage, notes_scheduled, notes_late, cycles_missed;
    _Atomic int64_t max_late_frames, mixer_minus_jack;
    _Atomic uint32_t period, max_events, fake_cycle_frame;
    _Atomic int32_t active, shut_down;
};

int ganshot_jack_available(char *why, int32_t why_size) {
    int ok = gj_load();
    if (!ok && why && why_size > 0) snprintf(why, (size_t)why_size, "%s", gj_why);
    return ok;
}

/* ---- the JACK MIDI thread (process callback) -------------------------------- */

static void gm_forward(ganshot_midi *m, uint32_t frame, const uint8_t *data, uint32_t size, int32_t pad) {
    uint64_t tail = atomic_load_explicit(&m->other_tail, RELAXED);
    uint64_t head = atomic_load_explicit(&m->other_head, memory_order_acquire);
    if (tail - head > GM_OTHER_MASK) { count(&m->other_ring_drops); return; }
    ganshot_midi_message *msg = &m->other[tail & GM_OTHER_MASK];
    msg->jack_frame = frame;
    msg->pad = pad;
    msg->size = size;
    msg->flags = pad >= 0 ? GANSHOT_MIDI_PLAYED : 0;
    memset(msg->data, 0, sizeof msg->data);
    memcpy(msg->data, data, size < 3 ? size : 3);
    atomic_store_explicit(&m->other_tail, tail + 1, memory_order_release);
}

/* A note-on the table plays: 1 when it went to the mixer (or was dropped, counted), 0 when not. */
static int gm_note_on(ganshot_midi *m, ganshot_note_table *t, uint32_t frame, uint32_t period,
                      const uint8_t *data) {
    const ganshot_note_entry *e = &t->notes[data[1]];
    if (!e->buffer || e->frames <= 0) return 0;
    if (t->channel >= 0 && t->channel != (data[0] & 0x0F)) return 0;
    uint64_t tail = atomic_load_explicit(&m->note_tail, RELAXED);
    uint64_t head = atomic_load_explicit(&m->note_head, memory_order_acquire);
    if (tail - head > GM_NOTE_MASK) { count(&m->note_ring_drops); return 1; }
    float g = t->velocity_gain[data[2]];
    gm_note *n = &m->notes[tail & GM_NOTE_MASK];
    n->jack_frame = frame; n->period = period; n->group = e->choke_group;
    n->gain_l = e->gain_l * g; n->gain_r = e->gain_r * g;
    n->buffer = e->buffer; n->frames = e->frames;
    n->token = (uint64_t)GANSHOT_MIDI_TOKEN_BASE + t->generation;
    atomic_store_explicit(&m->note_tail, tail + 1, memory_order_release);
    __atomic_store_n(&t->pushed, t->pushed + 1, __ATOMIC_RELEASE); /* this thread is its only writer */
    count(&m->notes_played);
    gm_forward(m, frame, data, 3, e->pad); /* Python: the focus moves to the pad played */
    return 1;
}

/* One message of the cycle starting at JACK frame cycle_frame, offset frames into it. */
static void gm_message(ganshot_midi *m, ganshot_note_table *t, uint32_t cycle_frame, uint32_t offset,
                       uint32_t period, const uint8_t *data, uint32_t size) {
    count(&m->events);
    if (!data || size == 0) { count(&m->garbage); return; }
    uint32_t frame = cycle_frame + offset;
    if (t && size == 3 && (data[0] & 0xF0) == 0x90 && data[1] < 0x80 && data[2] > 0 && data[2] < 0x80
        && gm_note_on(m, t, frame, period, data)) return;
    count(&m->notes_forwarded);
    gm_forward(m, frame, data, size, -1);
}

static int gm_process(gj_nframes nframes, void *arg) {
    ganshot_midi *m = arg;
    ganshot_note_table *t = atomic_load_explicit(&m->table, memory_order_acquire);
    uint32_t cycle_frame = gj.last_frame_time(m->client);
    void *buffer = gj.port_get_buffer(m->port, nframes);
    uint32_t n = buffer ? gj.midi_get_event_count(buffer) : 0;
    atomic_store_explicit(&m->period, nframes, RELAXED);
    if (m->last_cycle_known && nframes > 0 && cycle_frame - m->last_cycle > nframes) /* woken once for several cycles */
        atomic_fetch_add_explicit(&m->cycles_missed, (cycle_frame - m->last_cycle) / nframes - 1, RELAXED);
    m->last_cycle = cycle_frame; m->last_cycle_known = 1;
    for (uint32_t i = 0; i < n; i++) {
        gj_midi_event ev;
        if (gj.midi_event_get(&ev, buffer, i) != 0) { count(&m->events); count(&m->garbage); continue; }
        uint32_t offset = ev.time < nframes ? ev.time : nframes - 1;
        gm_message(m, t, cycle_frame, offset, nframes, ev.buffer, (uint32_t)ev.size);
    }
    if (n > atomic_load_explicit(&m->max_events, RELAXED)) atomic_store_explicit(&m->max_events, n, RELAXED);
    atomic_fetch_add_explicit(&m->cycles, 1, memory_order_release); /* after every use of t */
    return 0;
}

static void gm_shutdown(void *arg) {
    ganshot_midi *m = arg;
    atomic_store_explicit(&m->shut_down, 1, memory_order_release);
    atomic_store_explicit(&m->active, 0, RELAXED);
}

/* ---- the mixer's side (whoever mixes) ------------------------------------------ */

static void drain_midi(ganshot_state *s) {
    ganshot_midi *m = atomic_load_explicit(&s->midi, memory_order_acquire);
    if (!m || s->catching_up || atomic_load_explicit(&m->shut_down, memory_order_acquire)) return;
    uint32_t cycle = m->client ? gj.last_frame_time(m->client) : atomic_load_explicit(&m->fake_cycle_frame, RELAXED);
    if (!m->cycle_known || cycle != m->cycle_frame) { /* the first block of a JACK cycle */
        m->cycle_frame = cycle;
        m->cycle_mixer_frame = s->frame;
        m->cycle_known = 1;
        atomic_store_explicit(&m->mixer_minus_jack, s->frame - (int64_t)cycle, RELAXED);
    }
    uint64_t head = atomic_load_explicit(&m->note_head, RELAXED);
    uint64_t tail = atomic_load_explicit(&m->note_tail, memory_order_acquire);
    for (; head != tail; head++) {
        const gm_note *n = &m->notes[head & GM_NOTE_MASK];
        int64_t at = m->cycle_mixer_frame + (int32_t)(n->jack_frame - m->cycle_frame) + (int64_t)n->period;
        if (at < s->frame) {
            int64_t late = s->frame - at;
            count(&m->notes_late);
            store_max(&m->max_late_frames, late);
            at = s->frame; /* starts at this block's first frame; the mixer counts it late too */
            count(&s->late_starts);
            if (late > atomic_load_explicit(&s->max_late_frames, RELAXED))
                atomic_store_explicit(&s->max_late_frames, late, RELAXED);
        }
        count(&m->notes_scheduled);
        if (s->heap_len >= s->heap_cap) {
            count(&s->commands_dropped);
            push_finished(s, n->token, GANSHOT_FINISHED_DROPPED);
            continue;
        }
        ganshot_event ev = {CMD_PLAY, n->group, n->gain_l, n->gain_r, n->token, s->next_seq++, n->buffer,
                            n->frames, at};
        heap_push(s, &ev);
    }
    atomic_store_explicit(&m->note_head, head, memory_order_release);
}

/* ---- Python's side (one Python thread at a time) -------------------------------- */

static ganshot_midi *gm_alloc(ganshot_state *s) {
    size_t size = (sizeof(ganshot_midi) + 63) / 64 * 64;
    ganshot_midi *m = aligned_alloc(64, size);
    if (!m) return NULL;
    memset(m, 0, size); /* touches every page: the callbacks never take a first-touch fault */
    m->mixer = s;
    return m;
}

static void gm_why(char *why, int32_t size, const char *text, int status) {
    if (why && size > 0) snprintf(why, (size_t)size, "%s (JACK status 0x%x)", text, (unsigned)status);
}

ganshot_midi *ganshot_midi_open(ganshot_state *s, const char *client_name, const char *port_name,
                                char *why, int32_t why_size) {
    if (!gj_load()) { ganshot_jack_available(why, why_size); return NULL; }
    ganshot_midi *m = gm_alloc(s);
    if (!m) { gm_why(why, why_size, "out of memory", 0); return NULL; }
    int status = 0;
    m->client = gj.client_open(client_name, GJ_NO_START_SERVER, &status);
    if (!m->client) { gm_why(why, why_size, "no JACK server to join", status); free(m); return NULL; }
    m->port = gj.port_register(m->client, port_name, GJ_MIDI_TYPE, GJ_PORT_IS_INPUT, 0);
    if (!m->port) {
        gm_why(why, why_size, "JACK refused the MIDI input port", 0);
        gj.client_close(m->client); free(m); return NULL;
    }
    gj.set_process_callback(m->client, gm_process, m);
    gj.on_shutdown(m->client, gm_shutdown, m);
    if (gj.activate(m->client) != 0) {
        gm_why(why, why_size, "JACK did not activate the MIDI client", 0);
        gj.client_close(m->client); free(m); return NULL;
    }
    atomic_store_explicit(&m->active, 1, RELAXED);
    atomic_store_explicit(&s->midi, m, memory_order_release);
    return m;
}

ganshot_midi *ganshot_midi_fake(ganshot_state *s) {
    ganshot_midi *m = gm_alloc(s);
    if (m) atomic_store_explicit(&s->midi, m, memory_order_release);
    return m;
}

void ganshot_midi_fake_cycle(ganshot_midi *m, uint32_t cycle_frame) {
    atomic_store_explicit(&m->fake_cycle_frame, cycle_frame, RELAXED);
}

void ganshot_midi_inject(ganshot_midi *m, uint32_t cycle_frame, uint32_t offset, uint32_t period,
                         const uint8_t *data, uint32_t size) {
    ganshot_note_table *t = atomic_load_explicit(&m->table, memory_order_acquire);
    gm_message(m, t, cycle_frame, offset, period, data, size);
    atomic_fetch_add_explicit(&m->cycles, 1, memory_order_release);
}

void ganshot_midi_detach(ganshot_midi *m) {
    ganshot_midi *expected = m;
    atomic_compare_exchange_strong(&m->mixer->midi, &expected, NULL);
}

void ganshot_midi_close(ganshot_midi *m) {
    if (!m) return;
    ganshot_midi_detach(m);
    if (m->client) {
        if (!atomic_load_explicit(&m->shut_down, memory_order_acquire)) gj.deactivate(m->client);
        gj.client_close(m->client); /* no process callback runs after this returns */
    }
    free(m);
}

void ganshot_midi_publish(ganshot_midi *m, ganshot_note_table *table) {
    atomic_store_explicit(&m->table, table, memory_order_release);
}

uint64_t ganshot_midi_cycles(ganshot_midi *m) { return atomic_load_explicit(&m->cycles, memory_order_acquire); }

uint64_t ganshot_note_table_pushed(const ganshot_note_table *table) {
    return __atomic_load_n(&table->pushed, __ATOMIC_ACQUIRE);
}

int32_t ganshot_midi_pop(ganshot_midi *m, ganshot_midi_message *out, int32_t max_items) {
    uint64_t head = atomic_load_explicit(&m->other_head, RELAXED);
    uint64_t tail = atomic_load_explicit(&m->other_tail, memory_order_acquire);
    int32_t n = 0;
    while (head != tail && n < max_items) out[n++] = m->other[head++ & GM_OTHER_MASK];
    atomic_store_explicit(&m->other_head, head, memory_order_release);
    return n;
}

void ganshot_midi_read_counters(ganshot_midi *m, ganshot_midi_counters *c) {
    c->cycles = atomic_load_explicit(&m->cycles, RELAXED);
    c->events = atomic_load_explicit(&m->events, RELAXED);
    c->notes_played = atomic_load_explicit(&m->notes_played, RELAXED);
    c->notes_forwarded = atomic_load_explicit(&m->notes_forwarded, RELAXED);
    c->note_ring_drops = atomic_load_explicit(&m->note_ring_drops, RELAXED);
    c->other_ring_drops = atomic_load_explicit(&m->other_ring_drops, RELAXED);
    c->garbage = atomic_load_explicit(&m->garbage, RELAXED);
    c->notes_scheduled = atomic_load_explicit(&m->notes_scheduled, RELAXED);
    c->notes_late = atomic_load_explicit(&m->notes_late, RELAXED);
    c->max_late_frames = atomic_load_explicit(&m->max_late_frames, RELAXED);
    c->mixer_minus_jack = atomic_load_explicit(&m->mixer_minus_jack, RELAXED);
    c->period_frames = atomic_load_explicit(&m->period, RELAXED);
    c->max_events_per_cycle = atomic_load_explicit(&m->max_events, RELAXED);
    c->active = atomic_load_explicit(&m->active, RELAXED);
    c->shut_down = atomic_load_explicit(&m->shut_down, RELAXED);
    c->cycles_missed = atomic_load_explicit(&m->cycles_missed, RELAXED);
}

int ganshot_midi_port_name(ganshot_midi *m, char *out, int32_t size) {
    const char *name = m->port ? gj.port_name(m->port) : "fake:in";
    if (!name || size <= 0) return 0;
    snprintf(out, (size_t)size, "%s", name);
    return 1;
}

int ganshot_midi_connect(ganshot_midi *m, const char *source_port, int connect) {
    if (!m->client) return -1;
    if (atomic_load_explicit(&m->shut_down, memory_order_acquire)) return -1;
    const char *ours = gj.port_name(m->port);
    return connect ? gj.connect(m->client, source_port, ours) : gj.disconnect(m->client, source_port, ours);
}

int32_t ganshot_midi_sources(ganshot_midi *m, char *out, int32_t size) {
    if (!m->client || size <= 0 || atomic_load_explicit(&m->shut_down, memory_order_acquire)) return 0;
    const char **ports = gj.get_ports(m->client, NULL, GJ_MIDI_TYPE, GJ_PORT_IS_OUTPUT);
    int32_t used = 0;
    out[0] = 0;
    for (int i = 0; ports && ports[i]; i++) {
        int32_t len = (int32_t)strlen(ports[i]);
        if (used + len + 2 > size) { used = -1; break; }
        memcpy(out + used, ports[i], (size_t)len);
        used += len;
        out[used++] = '\n';
        out[used] = 0;
    }
    if (ports) gj.free(ports);
    return used;
}

#endif
