/* ganshot's C mixer: the only code that runs on the audio thread.
 *
 * Real-time contract: ganshot_callback() and ganshot_mix() never allocate, log,
 * print, touch files, take a lock or wait for Python's GIL. Python talks to them
 * through three lock-free single-producer/single-consumer rings (C11 atomics):
 *   commands  Python -> audio  PLAY, CHOKE, STOP_ALL, MASTER_GAIN, LIMITER_CEILING
 *   finished  audio -> Python  (token, reason) once a buffer is no longer read
 *   record    audio -> Python  every mixed frame while recording is on (see below)
 * and, when a JACK MIDI input is attached, its note ring (JACK MIDI thread -> audio; see
 * _cmixer_jack.h): note-ons that start voices one JACK period after they were sent.
 * Python keeps each mono buffer alive until its token comes back on "finished".
 *
 * Time is a frame counter (frames mixed since creation), never PortAudio's
 * per-block DAC time, so a voice starts at exactly its start_frame whatever the
 * block size. PLAY and CHOKE wait in a min-heap keyed by (frame, arrival order);
 * each block is cut at event frames, so the output is the same sample for sample
 * whether it is mixed in blocks of 1 or 8193 frames (live or offline render).
 *
 * Start times: GANSHOT_ASAP starts at the first frame of the next mixed block and
 * is never late. An explicit start frame already in the past when the audio thread
 * first sees it starts at that block's first frame and counts in late_starts (by
 * how much: max_late_frames).
 *
 * Voices: max_voices sound at full level; 2 * max_voices slots leave room for the
 * fade-out tails. A voice that starts in choke group g fades out (FADE_FRAMES,
 * linear) every sounding voice of group g from its own start frame. When
 * max_voices are sounding, the oldest one is stolen (faded) and the new one starts.
 * If even the tail slots are full, the tail closest to silence is cut.
 *
 * Master bus: the master gain (ramped over FADE_FRAMES), then a zero-latency brick-wall
 * limiter (limit_block): the output never passes its ceiling (0 dBFS unless set lower),
 * and what it took away is published (limiter_gain, limiter_min_gain, limited_frames).
 *
 * Each callback publishes (frame at block start, currentTime, outputBufferDacTime) in a
 * seqlock'd snapshot for Python's clock mapping, counts PortAudio's output-underflow
 * flag and records its own worst run time (max_callback_ns, via clock_gettime). What the
 * real-time contract is about (no wait for a lock, the GIL or a page fault) is kept apart from
 * what a loaded machine does to a callback (preempts it, so its wall time grows): each callback
 * also reads its thread's CPU clock and its voluntary context switches and major page faults
 * (getrusage RUSAGE_THREAD, on Linux). max_callback_cpu_ns is the CPU time of the costliest
 * callback per block of frames heard (the JACK clock lock's catch-up mixes lost cycles in the
 * same callback; its frames are divided out), callback_cpu_hist counts the callbacks by that CPU
 * time in power-of-two microsecond bins (a VM charges interrupt work to whichever thread it
 * interrupts, so a rare callback reads long without being long: the share says more than the
 * maximum), and callback_waits counts the callbacks in which
 * the thread blocked: the one thing the audio thread must never do.
 *
 * Record tap: while recording is on, ganshot_mix copies every mixed block (after the
 * master gain and the limiter: exactly what it outputs) into a third SPSC ring, audio -> Python, of
 * stereo float32 frames that a Python thread drains (engine/recorder.py). A full ring
 * never blocks the mixer: the frames that do not fit are dropped and counted
 * (rec_overflows: blocks cut short; rec_frames_dropped: frames lost). rec_first_frame
 * is the stream frame of the first recorded frame. Only Python-called functions
 * allocate or free the ring, under this handshake:
 *   start  (Python) allocate and page-touch the ring, reset its indices and counters,
 *          then make rec_control odd (release): a block that sees "on" sees the ring.
 *   mix    (mixer) load rec_control once per block (acquire); when it changed, store it
 *          in rec_ack (release) before this block's tap; write the ring only if odd.
 *   stop   (Python) make rec_control even (release); read what is left in the ring.
 *   free   (Python) only when rec_control is even and either rec_ack equals it
 *          (acquire: the mixer began a block under "off", so every block that wrote
 *          the ring has ended and no later one will), or Python holds the Mixer's
 *          mixing lock (no stream attached, no render() running, so no block is in
 *          progress and every later one sees "off"). Otherwise the ring stays where
 *          it is until one of those holds, at the latest in ganshot_destroy.
 * Every switch adds 1 to rec_control, so an "on" acknowledged before a stop is never
 * mistaken for the acknowledgement of the stop.
 */
#include "_cmixer_state.h"
#include <sys/resource.h> /* getrusage(RUSAGE_THREAD): did the audio thread block? */
_Static_assert(sizeof(((ganshot_counters *)0)->callback_cpu_hist) == GANSHOT_CPU_HIST_BINS * sizeof(uint64_t),
               "callback_cpu_hist's length is GANSHOT_CPU_HIST_BINS");
#if defined(__linux__) && !defined(RUSAGE_THREAD)
#error "RUSAGE_THREAD needs _GNU_SOURCE (Python.h defines it): callback_waits would say nothing"
#endif
#include "_cmixer_jack.h" /* the JACK MIDI input owned by C: drain_midi() and the ganshot_midi_* functions */

/* ---- setup, Python thread ------------------------------------------------ */

void ganshot_destroy(ganshot_state *s) {
    if (!s) return;
    free(s->cmd_ring); free(s->heap); free(s->fin_ring); free(s->voices); free(s->rec_ring);
    free(s);
}

/* calloc, then write one byte per page: the audio thread must never take a first-touch
 * page fault (a plain memset after calloc may be optimised away). */
static void *alloc_touched(size_t count, size_t size) {
    volatile char *p = calloc(count, size);
    for (size_t i = 0; p && i < count * size; i += 4096) p[i] = 0;
    return (void *)p;
}

ganshot_state *ganshot_create(double sample_rate, int32_t max_voices, int32_t queue_size) {
    if (!(sample_rate > 0) || max_voices < 1 || max_voices > GANSHOT_MAX_VOICES_LIMIT
        || queue_size < 1 || queue_size > GANSHOT_MAX_QUEUE) return NULL;
    size_t size = (sizeof(ganshot_state) + 63) / 64 * 64;
    ganshot_state *s = aligned_alloc(64, size);
    if (!s) return NULL;
    memset(s, 0, size);
    uint64_t cmd_cap = pow2_at_least((uint64_t)queue_size);
    /* + the JACK MIDI note ring: Python keeps that much room for notes it did not send (mixer.py) */
    uint64_t fin_cap = pow2_at_least(2 * cmd_cap + 2 * (uint64_t)max_voices + GANSHOT_MIDI_NOTE_RING);
    s->sample_rate = sample_rate;
    s->max_voices = max_voices;
    s->num_slots = 2 * max_voices;
    s->heap_cap = (int32_t)cmd_cap;
    s->cmd_mask = cmd_cap - 1;
    s->fin_mask = fin_cap - 1;
    s->cmd_ring = alloc_touched(cmd_cap, sizeof(ganshot_event));
    s->heap = alloc_touched(cmd_cap, sizeof(ganshot_event));
    s->fin_ring = alloc_touched(fin_cap, sizeof(ganshot_finished));
    s->voices = alloc_touched((size_t)s->num_slots, sizeof(ganshot_voice));
    s->master = s->master_target = 1.0f;
    s->lim_ceiling = s->lim_min_gain = 1.0f;
    /* one-pole release: the cut shrinks by exp(-1 / release frames) ~ 1 - 1 / release frames a frame */
    s->lim_keep = (float)(1.0 - 1000.0 / (GANSHOT_LIMITER_RELEASE_MS * sample_rate));
    atomic_store_explicit(&s->limiter_gain, 1.0f, RELAXED);
    atomic_store_explicit(&s->limiter_min_gain, 1.0f, RELAXED);
    atomic_store_explicit(&s->rec_first_frame, -1, RELAXED);
    if (!s->cmd_ring || !s->heap || !s->fin_ring || !s->voices) { ganshot_destroy(s); return NULL; }
    return s;
}

/* Python must keep fewer tokens outstanding than this, so "finished" never overflows. */
int64_t ganshot_finished_capacity(const ganshot_state *s) { return (int64_t)s->fin_mask + 1; }

/* ---- commands, producer side (one Python thread at a time) ---------------- */

int ganshot_play(ganshot_state *s, uint64_t token, const float *buffer, int64_t frames,
                 float gain_l, float gain_r, int64_t start_frame, uint32_t choke_group) {
    ganshot_event ev = {CMD_PLAY, choke_group, gain_l, gain_r, token, 0, buffer, frames, start_frame};
    return push_command(s, &ev);
}

int ganshot_choke(ganshot_state *s, uint32_t group, int64_t at_frame) {
    ganshot_event ev = {CMD_CHOKE, group, 0.f, 0.f, 0, 0, NULL, 0, at_frame};
    return push_command(s, &ev);
}

int ganshot_release(ganshot_state *s, uint64_t token, int64_t at_frame, int32_t release_frames) {
    if (release_frames < 1 || release_frames > GANSHOT_MAX_RELEASE_FRAMES) return 0;
    ganshot_event ev = {CMD_RELEASE, 0, 0.f, 0.f, token, 0, NULL, release_frames, at_frame};
    return push_command(s, &ev);
}

int ganshot_stop_all(ganshot_state *s) {
    ganshot_event ev = {CMD_STOP_ALL, 0, 0.f, 0.f, 0, 0, NULL, 0, GANSHOT_ASAP};
    return push_command(s, &ev);
}

int ganshot_set_limiter_ceiling(ganshot_state *s, float ceiling) {
    if (!(ceiling > 0.0f && ceiling <= 1.0f)) return 0;
    ganshot_event ev = {CMD_LIMITER_CEILING, 0, ceiling, ceiling, 0, 0, NULL, 0, GANSHOT_ASAP};
    return push_command(s, &ev);
}

int ganshot_set_master_gain(ganshot_state *s, float gain) {
    ganshot_event ev = {CMD_MASTER_GAIN, 0, gain, gain, 0, 0, NULL, 0, GANSHOT_ASAP};
    return push_command(s, &ev);
}

/* ---- finished ring, consumer side (one Python thread at a time) ----------- */

int32_t ganshot_pop_finished(ganshot_state *s, ganshot_finished *out, int32_t max_items) {
    uint64_t head = atomic_load_explicit(&s->fin_head, RELAXED);
    uint64_t tail = atomic_load_explicit(&s->fin_tail, memory_order_acquire);
    int32_t n = 0;
    while (head != tail && n < max_items) out[n++] = s->fin_ring[head++ & s->fin_mask];
    atomic_store_explicit(&s->fin_head, head, memory_order_release);
    return n;
}

/* ---- voices ---------------------------------------------------------------- */

static void start_fade_over(ganshot_state *s, ganshot_voice *v, int32_t reason, int32_t frames) {
    v->fade_left = v->fade_frames = frames;
    v->fade_reason = reason;
    s->sounding--;
}

static void start_fade(ganshot_state *s, ganshot_voice *v, int32_t reason) {
    start_fade_over(s, v, reason, GANSHOT_FADE_FRAMES);
}

static void release_token(ganshot_state *s, uint64_t token, int32_t frames) {
    for (int32_t i = 0; i < s->num_slots; i++) {
        ganshot_voice *v = &s->voices[i];
        if (v->in_use && v->fade_reason == 0 && v->token == token) {
            start_fade_over(s, v, GANSHOT_FINISHED_RELEASED, frames);
            return;
        }
    }
}

static void release_voice(ganshot_state *s, ganshot_voice *v, int32_t reason) {
    if (v->fade_reason == 0) s->sounding--;
    else reason = v->fade_reason;
    v->in_use = 0;
    v->buffer = NULL;
    push_finished(s, v->token, reason);
}

static void fade_group(ganshot_state *s, uint32_t group) {
    for (int32_t i = 0; i < s->num_slots; i++) {
        ganshot_voice *v = &s->voices[i];
        if (v->in_use && v->fade_reason == 0 && v->group == group) start_fade(s, v, GANSHOT_FINISHED_CHOKED);
    }
}

static ganshot_voice *take_slot(ganshot_state *s) {
    ganshot_voice *oldest = NULL, *quietest = NULL, *free_slot = NULL;
    for (int32_t i = 0; i < s->num_slots; i++) {
        ganshot_voice *v = &s->voices[i];
        if (!v->in_use) { if (!free_slot) free_slot = v; continue; }
        if (v->fade_reason == 0) { if (!oldest || v->order < oldest->order) oldest = v; }
        else if (!quietest || v->fade_left < quietest->fade_left) quietest = v;
    }
    if (s->sounding >= s->max_voices && oldest) {
        start_fade(s, oldest, GANSHOT_FINISHED_STOLEN);
        count(&s->voices_stolen);
    }
    if (free_slot) return free_slot;
    if (!quietest) return NULL; /* cannot happen: sounding <= max_voices < num_slots */
    release_voice(s, quietest, GANSHOT_FINISHED_CUT); /* every free slot holds a fading tail */
    return quietest;
}

static void start_voice(ganshot_state *s, const ganshot_event *ev) {
    if (ev->group != 0) fade_group(s, ev->group);
    ganshot_voice *v = take_slot(s);
    if (!v) { count(&s->commands_dropped); push_finished(s, ev->token, GANSHOT_FINISHED_DROPPED); return; }
    v->buffer = ev->buffer; v->token = ev->token; v->order = s->next_order++;
    v->frames = ev->frames; v->pos = 0;
    v->gain_l = ev->gain_l; v->gain_r = ev->gain_r;
    v->group = ev->group;
    v->fade_left = 0; v->fade_reason = 0; v->in_use = 1;
    s->sounding++;
}

static void mix_voice(ganshot_state *s, ganshot_voice *v, float *out, int64_t n) {
    int64_t left = v->frames - v->pos;
    if (n > left) n = left;
    const float *x = v->buffer + v->pos;
    const float gl = v->gain_l, gr = v->gain_r;
    if (v->fade_reason != 0) {
        if (n > v->fade_left) n = v->fade_left;
        for (int64_t i = 0; i < n; i++) {
            float m = (float)(--v->fade_left) / (float)v->fade_frames;
            out[2 * i] += x[i] * gl * m;
            out[2 * i + 1] += x[i] * gr * m;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            out[2 * i] += x[i] * gl;
            out[2 * i + 1] += x[i] * gr;
        }
    }
    v->pos += n;
    if (v->pos >= v->frames || (v->fade_reason != 0 && v->fade_left == 0))
        release_voice(s, v, GANSHOT_FINISHED_ENDED);
}

static void stop_all(ganshot_state *s) {
    while (s->heap_len > 0) {
        ganshot_event ev = heap_pop(s);
        if (ev.kind == CMD_PLAY) push_finished(s, ev.token, GANSHOT_FINISHED_CANCELLED);
    }
    for (int32_t i = 0; i < s->num_slots; i++) {
        ganshot_voice *v = &s->voices[i];
        if (v->in_use && v->fade_reason == 0) start_fade(s, v, GANSHOT_FINISHED_STOPPED);
    }
}

/* ---- the mixer --------------------------------------------------------------- */

static void drain_commands(ganshot_state *s) {
    uint64_t head = atomic_load_explicit(&s->cmd_head, RELAXED);
    uint64_t tail = atomic_load_explicit(&s->cmd_tail, memory_order_acquire);
    for (; head != tail; head++) {
        ganshot_event ev = s->cmd_ring[head & s->cmd_mask];
        if (ev.kind == CMD_STOP_ALL) { stop_all(s); continue; }
        if (ev.kind == CMD_LIMITER_CEILING) { s->lim_ceiling = ev.gain_l; continue; }
        if (ev.kind == CMD_MASTER_GAIN) {
            s->master_target = ev.gain_l;
            s->master_step = (s->master_target - s->master) / (float)GANSHOT_FADE_FRAMES;
            s->master_left = GANSHOT_FADE_FRAMES;
            continue;
        }
        if (s->heap_len >= s->heap_cap) {
            count(&s->commands_dropped);
            if (ev.kind == CMD_PLAY) push_finished(s, ev.token, GANSHOT_FINISHED_DROPPED);
            continue;
        }
        ev.seq = s->next_seq++;
        heap_push(s, &ev);
    }
    atomic_store_explicit(&s->cmd_head, head, memory_order_release);
}

static void apply_event(ganshot_state *s, const ganshot_event *ev, int64_t now) {
    if (ev->kind == CMD_CHOKE) { fade_group(s, ev->group); return; }
    if (ev->kind == CMD_RELEASE) { release_token(s, ev->token, (int32_t)ev->frames); return; }
    if (ev->at_frame >= 0 && ev->at_frame < now) { /* GANSHOT_ASAP (< 0) is never late */
        int64_t late = now - ev->at_frame;
        count(&s->late_starts);
        store_max(&s->max_late_frames, late);
    }
    start_voice(s, ev);
}

static void apply_master(ganshot_state *s, float *out, int64_t frames) {
    for (int64_t i = 0; i < frames; i++) {
        if (s->master_left > 0) {
            s->master += s->master_step;
            if (--s->master_left == 0) s->master = s->master_target;
        } else if (s->master == 1.0f) {
            return;
        }
        out[2 * i] *= s->master;
        out[2 * i + 1] *= s->master;
    }
}

/* The master limiter: a zero-latency brick wall, so scheduled frames stay exact. Per frame
 * (both channels linked), the gain recovers toward 1 (its cut, 1 - gain, decays with one
 * pole of LIMITER_RELEASE_MS, and is dropped below 1e-6) and is cut at once to
 * ceiling / peak wherever the frame would pass the ceiling; a product that still rounds
 * above it is clamped. Below the ceiling with the gain back at 1 the output is untouched,
 * bit for bit. Sample by sample, so every block size gives the same. (The cut, not the
 * gain, is what decays: near 1 a float gain would stall a step short of it.) */
static float magnitude(float x) { return x < 0.0f ? -x : x; }

static void limit_block(ganshot_state *s, float *out, int64_t frames) {
    float cut = s->lim_cut, min_g = s->lim_min_gain, peak_in = s->peak_in, peak_out = s->peak_out;
    const float ceiling = s->lim_ceiling, keep = s->lim_keep;
    uint64_t limited = 0;
    uint32_t reset = atomic_load_explicit(&s->peaks_reset, RELAXED);
    if (reset) { /* Python asked for fresh peaks; the mixer owns them, so it restarts them */
        atomic_fetch_sub_explicit(&s->peaks_reset, reset, RELAXED);
        min_g = 1.0f - cut; peak_in = peak_out = 0.0f;
    }
    for (int64_t i = 0; i < frames; i++) {
        float a = magnitude(out[2 * i]), b = magnitude(out[2 * i + 1]);
        float peak = a > b ? a : b;
        if (peak > peak_in) peak_in = peak;
        if (cut > 0.0f) {
            cut *= keep;
            if (cut < 1e-6f) cut = 0.0f;
        }
        float g = 1.0f - cut;
        if (peak * g > ceiling) { g = ceiling / peak; cut = 1.0f - g; }
        if (cut > 0.0f) {
            limited++;
            if (g < min_g) min_g = g;
            for (int c = 0; c < GANSHOT_CHANNELS; c++) {
                float y = out[2 * i + c] * g;
                if (y > ceiling) y = ceiling;
                else if (y < -ceiling) y = -ceiling;
                out[2 * i + c] = y;
            }
            peak *= g;
            if (peak > ceiling) peak = ceiling;
        }
        if (peak > peak_out) peak_out = peak;
    }
    s->lim_cut = cut; s->lim_min_gain = min_g; s->peak_in = peak_in; s->peak_out = peak_out;
    if (limited) atomic_fetch_add_explicit(&s->limited_frames, limited, RELAXED);
    atomic_store_explicit(&s->limiter_gain, 1.0f - cut, RELAXED);
    atomic_store_explicit(&s->limiter_min_gain, min_g, RELAXED);
    atomic_store_explicit(&s->peak_in_published, peak_in, RELAXED);
    atomic_store_explicit(&s->peak_out_published, peak_out, RELAXED);
}

/* The record tap: obey rec_control, then copy what fits of the block into the ring. */
static void record_block(ganshot_state *s, const float *out, int64_t frames) {
    uint64_t control = atomic_load_explicit(&s->rec_control, memory_order_acquire);
    if (control != s->rec_seen) { /* the ack that lets Python free the ring after a stop */
        s->rec_seen = control;
        atomic_store_explicit(&s->rec_ack, control, memory_order_release);
    }
    if (!(control & 1) || frames <= 0) return;
    if (atomic_load_explicit(&s->rec_first_frame, RELAXED) < 0)
        atomic_store_explicit(&s->rec_first_frame, s->frame, memory_order_release);
    uint64_t tail = atomic_load_explicit(&s->rec_tail, RELAXED);
    uint64_t head = atomic_load_explicit(&s->rec_head, memory_order_acquire);
    uint64_t cap = s->rec_mask + 1, n = (uint64_t)frames, space = cap - (tail - head);
    if (n > space) {
        count(&s->rec_overflows);
        atomic_fetch_add_explicit(&s->rec_frames_dropped, n - space, RELAXED);
        n = space;
    }
    uint64_t at = tail & s->rec_mask, first = n < cap - at ? n : cap - at;
    memcpy(s->rec_ring + 2 * at, out, first * GANSHOT_CHANNELS * sizeof(float));
    memcpy(s->rec_ring, out + 2 * first, (n - first) * GANSHOT_CHANNELS * sizeof(float));
    atomic_store_explicit(&s->rec_tail, tail + n, memory_order_release);
}

/* Mix `frames` stereo frames into out[frames][2] (interleaved float32) and advance
 * the frame counter. Used by the PortAudio callback and by offline render alike. */
void ganshot_mix(ganshot_state *s, float *out, int64_t frames) {
    drain_commands(s);
    drain_midi(s);
    memset(out, 0, (size_t)frames * GANSHOT_CHANNELS * sizeof(float));
    int64_t pos = 0;
    while (pos < frames) {
        int64_t now = s->frame + pos;
        while (s->heap_len > 0 && s->heap[0].at_frame <= now) {
            ganshot_event ev = heap_pop(s);
            apply_event(s, &ev, now);
        }
        int64_t end = frames;
        if (s->heap_len > 0 && s->heap[0].at_frame - s->frame < end) end = s->heap[0].at_frame - s->frame;
        for (int32_t i = 0; i < s->num_slots; i++)
            if (s->voices[i].in_use) mix_voice(s, &s->voices[i], out + 2 * pos, end - pos);
        pos = end;
    }
    apply_master(s, out, frames);
    limit_block(s, out, frames);
    record_block(s, out, frames);
    s->frame += frames;
    int32_t active = 0;
    for (int32_t i = 0; i < s->num_slots; i++) active += s->voices[i].in_use;
    atomic_store_explicit(&s->voices_active, active, RELAXED);
    atomic_store_explicit(&s->voices_sounding, s->sounding, RELAXED);
    atomic_store_explicit(&s->frames_done, s->frame, memory_order_release);
}

#include "_cmixer_jack_clock.h" /* jack_clock_lock() and the ganshot_jack_clock_* functions */

static int64_t elapsed_ns(const struct timespec *a, const struct timespec *b) {
    return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
}

/* The calling thread's voluntary context switches plus major page faults: it grows only when the
 * thread blocked (a lock, a futex, a sleep, I/O for a page). Preemption is not counted (nivcsw).
 * 0 where RUSAGE_THREAD does not exist: there, callback_waits stays 0 and says nothing. */
static uint64_t thread_waits(void) {
#ifdef RUSAGE_THREAD
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) == 0) return (uint64_t)usage.ru_nvcsw + (uint64_t)usage.ru_majflt;
#endif
    return 0;
}

/* PortAudio stream callback (PaStreamCallback); userData is the ganshot_state. */
int ganshot_callback(const void *input, void *output, unsigned long frame_count,
                     const ganshot_time_info *time_info, unsigned long status_flags, void *user_data) {
    ganshot_state *s = (ganshot_state *)user_data;
    struct timespec t0, t1, cpu0, cpu1;
    uint64_t waits0 = thread_waits();
    (void)input;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    count(&s->callbacks);
    if (status_flags & GANSHOT_PA_OUTPUT_UNDERFLOW) count(&s->underflows);
    uint64_t caught0 = atomic_load_explicit(&s->frames_caught_up, RELAXED);
    jack_clock_lock(s, (int64_t)frame_count); /* before the snapshot: it names the frame heard */
    uint64_t caught = atomic_load_explicit(&s->frames_caught_up, RELAXED) - caught0;
    if (time_info) { /* seqlock writer: odd while the snapshot is being written */
        uint64_t seq = atomic_load_explicit(&s->clock_seq, RELAXED);
        atomic_store_explicit(&s->clock_seq, seq + 1, RELAXED);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&s->clock_frame, s->frame, RELAXED);
        atomic_store_explicit(&s->clock_frames, (int64_t)frame_count, RELAXED);
        atomic_store_explicit(&s->clock_current, time_info->currentTime, RELAXED);
        atomic_store_explicit(&s->clock_dac, time_info->outputBufferDacTime, RELAXED);
        atomic_store_explicit(&s->clock_callbacks, atomic_load_explicit(&s->callbacks, RELAXED), RELAXED);
        atomic_store_explicit(&s->clock_seq, seq + 2, memory_order_release);
    }
    ganshot_mix(s, (float *)output, (int64_t)frame_count);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (thread_waits() != waits0) count(&s->callback_waits);
    store_max(&s->max_callback_ns, elapsed_ns(&t0, &t1));
    if (frame_count) { /* per block heard: catch-up frames are divided out */
        int64_t cpu_ns = (int64_t)((double)elapsed_ns(&cpu0, &cpu1) * (double)frame_count / (double)(frame_count + caught));
        store_max(&s->max_callback_cpu_ns, cpu_ns);
        uint64_t cpu_us = cpu_ns > 0 ? (uint64_t)cpu_ns / 1000u : 0u;
        int bin = cpu_us ? 63 - __builtin_clzll(cpu_us) : 0; /* floor(log2(us)); 0 and 1 us share bin 0 */
        count(&s->cpu_hist[bin < GANSHOT_CPU_HIST_BINS ? bin : GANSHOT_CPU_HIST_BINS - 1]);
    }
    return 0; /* paContinue */
}

/* ---- record tap, Python side (one Python thread at a time; see the header) ---- */

/* 1: on; 0: already on, or the last ring is not freed yet; -1: out of memory; -2: bad size. */
int ganshot_record_start(ganshot_state *s, int64_t capacity_frames) {
    if (capacity_frames < 1 || capacity_frames > GANSHOT_MAX_RECORD_FRAMES) return -2;
    uint64_t control = atomic_load_explicit(&s->rec_control, RELAXED);
    if ((control & 1) || s->rec_ring) return 0;
    uint64_t cap = pow2_at_least((uint64_t)capacity_frames);
    float *ring = alloc_touched(cap, GANSHOT_CHANNELS * sizeof(float));
    if (!ring) return -1;
    s->rec_ring = ring; /* the mixer ignores these while rec_control is even */
    s->rec_mask = cap - 1;
    atomic_store_explicit(&s->rec_head, 0, RELAXED);
    atomic_store_explicit(&s->rec_tail, 0, RELAXED);
    atomic_store_explicit(&s->rec_first_frame, -1, RELAXED);
    atomic_store_explicit(&s->rec_frames_dropped, 0, RELAXED);
    atomic_store_explicit(&s->rec_overflows, 0, RELAXED);
    atomic_store_explicit(&s->rec_control, control + 1, memory_order_release);
    return 1;
}

void ganshot_record_stop(ganshot_state *s) {
    uint64_t control = atomic_load_explicit(&s->rec_control, RELAXED);
    if (control & 1) atomic_store_explicit(&s->rec_control, control + 1, memory_order_release);
}

/* 1 when recording is off and the mixer has acknowledged it (began a block since). */
int ganshot_record_acknowledged(ganshot_state *s) {
    uint64_t control = atomic_load_explicit(&s->rec_control, RELAXED);
    return !(control & 1) && atomic_load_explicit(&s->rec_ack, memory_order_acquire) == control;
}

/* Free the ring if that is safe; nobody_mixes: the caller holds the Mixer's mixing lock.
 * 1: freed (or there was none); 0: kept (recording on, or the mixer may still write). */
int ganshot_record_free(ganshot_state *s, int nobody_mixes) {
    if (!s->rec_ring) return 1;
    if (atomic_load_explicit(&s->rec_control, RELAXED) & 1) return 0;
    if (!nobody_mixes && !ganshot_record_acknowledged(s)) return 0;
    free(s->rec_ring);
    s->rec_ring = NULL;
    s->rec_mask = 0;
    return 1;
}

int64_t ganshot_record_waiting(ganshot_state *s) {
    if (!s->rec_ring) return 0;
    return (int64_t)(atomic_load_explicit(&s->rec_tail, memory_order_acquire)
                     - atomic_load_explicit(&s->rec_head, RELAXED));
}

/* Copy up to max_frames waiting frames into out[max_frames][2]; returns how many. */
int64_t ganshot_record_read(ganshot_state *s, float *out, int64_t max_frames) {
    if (!s->rec_ring || max_frames <= 0) return 0;
    uint64_t head = atomic_load_explicit(&s->rec_head, RELAXED);
    uint64_t tail = atomic_load_explicit(&s->rec_tail, memory_order_acquire);
    uint64_t cap = s->rec_mask + 1, n = tail - head;
    if (n > (uint64_t)max_frames) n = (uint64_t)max_frames;
    uint64_t at = head & s->rec_mask, first = n < cap - at ? n : cap - at;
    memcpy(out, s->rec_ring + 2 * at, first * GANSHOT_CHANNELS * sizeof(float));
    memcpy(out + 2 * first, s->rec_ring, (n - first) * GANSHOT_CHANNELS * sizeof(float));
    atomic_store_explicit(&s->rec_head, head + n, memory_order_release);
    return (int64_t)n;
}

void ganshot_record_info_read(ganshot_state *s, ganshot_record_info *r) {
    uint64_t tail = atomic_load_explicit(&s->rec_tail, memory_order_acquire);
    r->recording = (int32_t)(atomic_load_explicit(&s->rec_control, RELAXED) & 1);
    r->acknowledged = ganshot_record_acknowledged(s);
    r->first_frame = atomic_load_explicit(&s->rec_first_frame, memory_order_acquire);
    r->capacity_frames = s->rec_ring ? (int64_t)s->rec_mask + 1 : 0;
    r->frames_recorded = (int64_t)tail;
    r->frames_waiting = ganshot_record_waiting(s);
    r->frames_dropped = atomic_load_explicit(&s->rec_frames_dropped, RELAXED);
    r->overflows = atomic_load_explicit(&s->rec_overflows, RELAXED);
}

/* ---- readers, any thread -------------------------------------------------- */

int64_t ganshot_frame(const ganshot_state *s) {
    return atomic_load_explicit(&((ganshot_state *)s)->frames_done, memory_order_acquire);
}

void ganshot_read_counters(ganshot_state *s, ganshot_counters *c) {
    c->frames_done = atomic_load_explicit(&s->frames_done, memory_order_acquire);
    c->max_late_frames = atomic_load_explicit(&s->max_late_frames, RELAXED);
    c->max_callback_ns = atomic_load_explicit(&s->max_callback_ns, RELAXED);
    c->max_callback_cpu_ns = atomic_load_explicit(&s->max_callback_cpu_ns, RELAXED);
    c->callback_waits = atomic_load_explicit(&s->callback_waits, RELAXED);
    for (int i = 0; i < GANSHOT_CPU_HIST_BINS; i++)
        c->callback_cpu_hist[i] = atomic_load_explicit(&s->cpu_hist[i], RELAXED);
    c->callbacks = atomic_load_explicit(&s->callbacks, RELAXED);
    c->underflows = atomic_load_explicit(&s->underflows, RELAXED);
    c->late_starts = atomic_load_explicit(&s->late_starts, RELAXED);
    c->commands_dropped = atomic_load_explicit(&s->commands_dropped, RELAXED);
    c->voices_stolen = atomic_load_explicit(&s->voices_stolen, RELAXED);
    c->finished_overflows = atomic_load_explicit(&s->finished_overflows, RELAXED);
    c->voices_active = atomic_load_explicit(&s->voices_active, RELAXED);
    c->voices_sounding = atomic_load_explicit(&s->voices_sounding, RELAXED);
    c->limited_frames = atomic_load_explicit(&s->limited_frames, RELAXED);
    c->limiter_gain = atomic_load_explicit(&s->limiter_gain, RELAXED);
    c->limiter_min_gain = atomic_load_explicit(&s->limiter_min_gain, RELAXED);
    c->peak_in = atomic_load_explicit(&s->peak_in_published, RELAXED);
    c->peak_out = atomic_load_explicit(&s->peak_out_published, RELAXED);
    c->clock_catch_ups = atomic_load_explicit(&s->clock_catch_ups, RELAXED);
    c->frames_caught_up = atomic_load_explicit(&s->frames_caught_up, RELAXED);
    c->clock_rebases = atomic_load_explicit(&s->clock_rebases, RELAXED);
}

/* Peaks restart from zero (a racing update may be lost: they are diagnostics). */
void ganshot_reset_peaks(ganshot_state *s) {
    atomic_store_explicit(&s->max_late_frames, 0, RELAXED);
    atomic_store_explicit(&s->max_callback_ns, 0, RELAXED);
    atomic_store_explicit(&s->max_callback_cpu_ns, 0, RELAXED);
    atomic_fetch_add_explicit(&s->peaks_reset, 1, RELAXED); /* the limiter's peaks: the mixer restarts them */
    atomic_store_explicit(&s->limiter_min_gain, 1.0f, RELAXED);
    atomic_store_explicit(&s->peak_in_published, 0.0f, RELAXED);
    atomic_store_explicit(&s->peak_out_published, 0.0f, RELAXED);
}

/* Latest (frame at block start, PortAudio currentTime, outputBufferDacTime).
 * Returns 0 before the first callback, 1 on success. */
int ganshot_read_clock(ganshot_state *s, ganshot_clock *c) {
    for (;;) {
        uint64_t seq = atomic_load_explicit(&s->clock_seq, memory_order_acquire);
        if (seq == 0) return 0;
        if (seq & 1) continue;
        c->block_start_frame = atomic_load_explicit(&s->clock_frame, RELAXED);
        c->block_frames = atomic_load_explicit(&s->clock_frames, RELAXED);
        c->current_time = atomic_load_explicit(&s->clock_current, RELAXED);
        c->dac_time = atomic_load_explicit(&s->clock_dac, RELAXED);
        c->callbacks = atomic_load_explicit(&s->clock_callbacks, RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->clock_seq, RELAXED) == seq) return 1;
    }
}
