/* The mixer's state and its queues: types, the lock-free SPSC rings (commands,
 * finished, record tap) and the event heap. Private to _cmixer.c (one translation unit);
 * see its header comment. What Python sees is declared once, in _cmixer.h. */
#ifndef GANSHOT_CMIXER_STATE_H
#define GANSHOT_CMIXER_STATE_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime: a vDSO read, no syscall, no lock */
#endif
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "_cmixer.h" /* the public constants, types and prototypes (cdef-clean) */

#define GANSHOT_PA_OUTPUT_UNDERFLOW 0x4ul /* paOutputUnderflow in PaStreamCallbackFlags */

enum { CMD_PLAY = 1, CMD_CHOKE, CMD_STOP_ALL, CMD_MASTER_GAIN, CMD_LIMITER_CEILING, CMD_RELEASE };

typedef struct { /* a command in the ring, then an event in the heap */
    int32_t kind;
    uint32_t group;
    float gain_l, gain_r;
    uint64_t token, seq;
    const float *buffer;
    int64_t frames, at_frame;
} ganshot_event;

typedef struct {
    const float *buffer;
    uint64_t token, order;
    int64_t frames, pos;
    float gain_l, gain_r;
    uint32_t group;
    int32_t in_use, fade_left, fade_frames, fade_reason; /* fade_reason 0: sounding, else a GANSHOT_FINISHED_* */
} ganshot_voice;

struct ganshot_state {
    double sample_rate;
    int32_t max_voices, num_slots, heap_cap, heap_len;
    uint64_t cmd_mask, fin_mask;
    ganshot_event *cmd_ring, *heap;
    ganshot_finished *fin_ring;
    ganshot_voice *voices;
    /* owned by whoever mixes (the audio thread, or render() while no stream runs) */
    int64_t frame;
    uint64_t next_seq, next_order;
    int32_t sounding, master_left;
    float master, master_target, master_step;
    float lim_cut, lim_ceiling, lim_keep, lim_min_gain, peak_in, peak_out; /* the master limiter; gain = 1 - lim_cut */
    alignas(64) _Atomic uint64_t cmd_head; /* consumer: mixer */
    alignas(64) _Atomic uint64_t cmd_tail; /* producer: Python */
    alignas(64) _Atomic uint64_t fin_head; /* consumer: Python */
    alignas(64) _Atomic uint64_t fin_tail; /* producer: mixer */
    alignas(64) _Atomic int64_t frames_done, max_late_frames, max_callback_ns, max_callback_cpu_ns;
    _Atomic uint64_t callbacks, underflows, late_starts, commands_dropped, voices_stolen, finished_overflows;
    _Atomic uint64_t callback_waits;
    _Atomic uint64_t cpu_hist[GANSHOT_CPU_HIST_BINS];
    _Atomic int32_t voices_active, voices_sounding;
    _Atomic uint64_t limited_frames;
    _Atomic float limiter_gain, limiter_min_gain, peak_in_published, peak_out_published;
    _Atomic uint32_t peaks_reset; /* Python: +1 asks the mixer to restart its peaks */
    alignas(64) _Atomic uint64_t clock_seq, clock_callbacks;
    _Atomic int64_t clock_frame, clock_frames;
    _Atomic double clock_current, clock_dac;
    /* record tap (handshake: see _cmixer.c's header). rec_ring and rec_mask are written by
     * Python only while the mixer ignores them; rec_seen is owned by whoever mixes. */
    float *rec_ring;  /* (rec_mask + 1) stereo frames, interleaved */
    uint64_t rec_mask, rec_seen;
    alignas(64) _Atomic uint64_t rec_control; /* Python: odd = on; +1 at every switch */
    _Atomic uint64_t rec_ack;                 /* mixer: the control value it obeys */
    alignas(64) _Atomic uint64_t rec_head;    /* consumer: Python, in frames */
    alignas(64) _Atomic uint64_t rec_tail;    /* producer: mixer, in frames */
    _Atomic int64_t rec_first_frame;
    _Atomic uint64_t rec_frames_dropped, rec_overflows;
    /* the JACK clock lock (_cmixer_jack_clock.h): catching_up is the mixer's; counters are read by Python */
    alignas(64) _Atomic(ganshot_jack_clock *) jack_clock;
    int32_t catching_up;
    _Atomic uint64_t clock_catch_ups, frames_caught_up, clock_rebases;
    alignas(64) _Atomic(ganshot_midi *) midi; /* the JACK MIDI input the mixer drains (_cmixer_jack.h), or NULL */
};

#define RELAXED memory_order_relaxed
static void count(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, RELAXED); }
/* A peak with one writer (the audio thread): raise it to ``value`` when that is higher. */
static void store_max(_Atomic int64_t *peak, int64_t value) {
    if (value > atomic_load_explicit(peak, RELAXED)) atomic_store_explicit(peak, value, RELAXED);
}

static uint64_t pow2_at_least(uint64_t n) { uint64_t p = 1; while (p < n) p <<= 1; return p; }

/* ---- command ring, producer side (one Python thread at a time) ----------- */

static int push_command(ganshot_state *s, const ganshot_event *ev) {
    uint64_t tail = atomic_load_explicit(&s->cmd_tail, RELAXED);
    uint64_t head = atomic_load_explicit(&s->cmd_head, memory_order_acquire);
    if (tail - head > s->cmd_mask) { count(&s->commands_dropped); return 0; }
    s->cmd_ring[tail & s->cmd_mask] = *ev;
    atomic_store_explicit(&s->cmd_tail, tail + 1, memory_order_release);
    return 1;
}
/* ---- finished ring -------------------------------------------------------- */

static void push_finished(ganshot_state *s, uint64_t token, int32_t reason) {
    uint64_t tail = atomic_load_explicit(&s->fin_tail, RELAXED);
    uint64_t head = atomic_load_explicit(&s->fin_head, memory_order_acquire);
    if (tail - head > s->fin_mask) { count(&s->finished_overflows); return; } /* buffer leaks, never freed early */
    ganshot_finished *f = &s->fin_ring[tail & s->fin_mask];
    f->token = token; f->reason = reason;
    atomic_store_explicit(&s->fin_tail, tail + 1, memory_order_release);
}
/* ---- event heap (mixer side), ordered by (at_frame, seq) ------------------ */

static int before(const ganshot_event *a, const ganshot_event *b) {
    return a->at_frame < b->at_frame || (a->at_frame == b->at_frame && a->seq < b->seq);
}

static void heap_push(ganshot_state *s, const ganshot_event *ev) {
    int32_t i = s->heap_len++;
    while (i > 0) {
        int32_t parent = (i - 1) / 2;
        if (!before(ev, &s->heap[parent])) break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = *ev;
}

static ganshot_event heap_pop(ganshot_state *s) {
    ganshot_event top = s->heap[0], last = s->heap[--s->heap_len];
    int32_t i = 0, n = s->heap_len;
    for (;;) {
        int32_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(&s->heap[child + 1], &s->heap[child])) child++;
        if (!before(&s->heap[child], &last)) break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (n > 0) s->heap[i] = last;
    return top;
}

#endif
