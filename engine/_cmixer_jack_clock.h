/* The JACK clock lock: the mixer's frame counter keeps step with JACK's frame clock across lost cycles.
 * Private to _cmixer.c (included once, after _cmixer_jack.h, whose gj_load() and gj.* it uses).
 *
 * Why: on JACK a client that is preempted for k periods (a loaded machine, a stop signal, a page
 * fault elsewhere in the process) is woken once for all of them: JACK's futex merges the wake-ups,
 * so k - 1 of its cycles never run. The mixer counts the frames it mixed, so without this lock every
 * such stall moves everything scheduled after it k - 1 periods later on JACK's timeline (measured:
 * a 20 ms SIGSTOP at 64 frames, 44.1 kHz shifted the mixer by 13-14 periods, for good).
 *
 * How: the PortAudio callback (which runs inside JACK's process cycle on PortAudio's JACK host API)
 * reads jack_last_frame_time() through a portless, never-activated JACK client of the same server.
 * At the first block of each new JACK cycle it compares the frames JACK advanced with the frames the
 * mixer advanced since the last new cycle; the mixer's deficit ("behind") is caught up by mixing the
 * missing frames into a scratch buffer that nobody hears (voices, fades, scheduled events, the
 * limiter and the recording all advance exactly as if those periods had played), so what follows is
 * heard at its frame again. A late client is woken once more at once (the wake-up of the cycle that
 * passed while it ran), so "behind" of one period at a new cycle is normal and evens out at the next;
 * only more than one period, or one period at two new cycles in a row, is caught up (by all but the
 * period the extra wake-up will mix). Frames never go backwards: the mixer ahead of JACK (a restarted
 * or freewheeling server) or further behind than GANSHOT_CLOCK_MAX_CATCH_UP starts the lock afresh
 * (counted in clock_rebases). The lock works while each callback mixes exactly one JACK period (the
 * stream's block size equals the server's); otherwise it stands aside.
 */
#ifndef GANSHOT_CMIXER_JACK_CLOCK_H
#define GANSHOT_CMIXER_JACK_CLOCK_H

#define GJC_SCRATCH_FRAMES 4096 /* catch-up is mixed in chunks of this many frames */

struct ganshot_jack_clock {
    void *client;             /* a JACK client of the stream's server: only its frame clock is read */
    float *scratch;           /* GJC_SCRATCH_FRAMES stereo frames, touched: what nobody hears */
    /* the mixer's (whoever mixes) */
    uint32_t cycle;           /* JACK frame time of the last new cycle seen */
    int64_t target;           /* the mixer frame that should have started that cycle */
    int64_t behind_prev;      /* frames behind left at that cycle */
    int32_t known;
    _Atomic uint32_t fake_period, fake_cycle; /* the fake's clock (client NULL) */
};

/* Before a block of `frames`: catch the mixer up with JACK's clock (see the header comment). */
static void jack_clock_lock(ganshot_state *s, int64_t frames) {
    ganshot_jack_clock *c = atomic_load_explicit(&s->jack_clock, memory_order_acquire);
    if (!c) return;
    uint32_t period = c->client ? gj.get_buffer_size(c->client) : atomic_load_explicit(&c->fake_period, RELAXED);
    uint32_t cycle = c->client ? gj.last_frame_time(c->client) : atomic_load_explicit(&c->fake_cycle, RELAXED);
    if ((int64_t)period != frames) { c->known = 0; return; } /* PortAudio re-blocks: no lock */
    if (c->known && cycle == c->cycle) return;              /* another block of the same cycle */
    int64_t target = c->target + (int32_t)(cycle - c->cycle); /* 32-bit: JACK's clock wraps */
    int64_t behind = target - s->frame;
    c->cycle = cycle;
    if (!c->known || behind < 0 || behind > GANSHOT_CLOCK_MAX_CATCH_UP) {
        if (c->known) count(&s->clock_rebases);
        c->known = 1; c->target = s->frame; c->behind_prev = 0;
        return;
    }
    c->target = target;
    int64_t catch_up = behind > period ? behind - period : (behind == period && c->behind_prev >= period ? behind : 0);
    c->behind_prev = behind - catch_up;
    if (catch_up <= 0) return;
    s->catching_up = 1; /* drain_midi waits for the block that is heard */
    for (int64_t left = catch_up; left > 0;) {
        int64_t n = left < GJC_SCRATCH_FRAMES ? left : GJC_SCRATCH_FRAMES;
        ganshot_mix(s, c->scratch, n);
        left -= n;
    }
    s->catching_up = 0;
    count(&s->clock_catch_ups);
    atomic_fetch_add_explicit(&s->frames_caught_up, (uint64_t)catch_up, RELAXED);
}

/* ---- Python's side ------------------------------------------------------------------------ */

/* A clock with its scratch buffer (touched: the audio thread never faults on it), no client yet. */
static ganshot_jack_clock *gjc_alloc(void) {
    ganshot_jack_clock *c = calloc(1, sizeof *c);
    if (c && !(c->scratch = alloc_touched(GJC_SCRATCH_FRAMES, GANSHOT_CHANNELS * sizeof(float)))) { free(c); c = NULL; }
    return c;
}

ganshot_jack_clock *ganshot_jack_clock_open(ganshot_state *s, const char *client_name, char *why, int32_t why_size) {
    if (!gj_load()) { ganshot_jack_available(why, why_size); return NULL; }
    ganshot_jack_clock *c = gjc_alloc();
    if (!c) { gm_why(why, why_size, "out of memory", 0); return NULL; }
    int status = 0;
    c->client = gj.client_open(client_name, GJ_NO_START_SERVER, &status);
    if (!c->client) { gm_why(why, why_size, "no JACK server to join", status); ganshot_jack_clock_close(c); return NULL; }
    atomic_store_explicit(&s->jack_clock, c, memory_order_release);
    return c;
}

ganshot_jack_clock *ganshot_jack_clock_fake(ganshot_state *s, uint32_t period) {
    ganshot_jack_clock *c = gjc_alloc();
    if (!c) return NULL;
    atomic_store_explicit(&c->fake_period, period, RELAXED);
    atomic_store_explicit(&s->jack_clock, c, memory_order_release);
    return c;
}

void ganshot_jack_clock_fake_cycle(ganshot_jack_clock *c, uint32_t cycle_frame) {
    atomic_store_explicit(&c->fake_cycle, cycle_frame, RELAXED);
}

void ganshot_jack_clock_detach(ganshot_state *s, ganshot_jack_clock *c) {
    ganshot_jack_clock *expected = c;
    atomic_compare_exchange_strong(&s->jack_clock, &expected, NULL);
}

void ganshot_jack_clock_close(ganshot_jack_clock *c) {
    if (!c) return;
    if (c->client) gj.client_close(c->client);
    free(c->scratch);
    free(c);
}

#endif
