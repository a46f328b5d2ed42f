/* The C mixer's interface: the one declaration of its constants, types and functions.
 *
 * Read by two readers: engine/_cmixer.c includes it (after the system headers, from
 * _cmixer_state.h), and engine/_mixer_build.py feeds it verbatim to cffi's cdef, which
 * binds it to Python as ganshot.engine._cmixer (mixer.py turns every upper-case
 * GANSHOT_* name into a module constant with one loop). So it stays "cdef-clean": no
 * #include, no #if, no macros but integer literals, only fixed-size integer types.
 * Everything the audio thread needs beyond this (atomics, rings, heap) is private to
 * _cmixer_state.h.
 */

#define GANSHOT_CHANNELS 2
#define GANSHOT_FADE_FRAMES 48             /* linear fade for choke, steal and stop_all */
#define GANSHOT_MAX_RELEASE_FRAMES 4194304 /* 2^22: the longest note-off release fade (87 s at 48 kHz) */
#define GANSHOT_ASAP -1                    /* start frame: the first frame of the next mixed block */
#define GANSHOT_MAX_VOICES_LIMIT 1024
#define GANSHOT_MAX_QUEUE 1048576
#define GANSHOT_MAX_RECORD_FRAMES 16777216 /* 2^24: 128 MiB of stereo float32 at most */
#define GANSHOT_LIMITER_RELEASE_MS 80      /* the master limiter's gain recovers with this time constant */
#define GANSHOT_MIDI_NOTES 128             /* note numbers (and velocities) of the JACK MIDI note table */
#define GANSHOT_MIDI_NOTE_RING 1024        /* note-ons between the JACK MIDI client and the mixer */
#define GANSHOT_MIDI_OTHER_RING 4096       /* every other message (CC, ...) on its way to Python */
#define GANSHOT_CLOCK_MAX_CATCH_UP 16384   /* frames the JACK clock lock mixes unheard at most; beyond, it rebases */
#define GANSHOT_CPU_HIST_BINS 16           /* callbacks by CPU us per heard block: bin 0 < 2 us, bin k [2^k, 2^(k+1)), last: more */
#define GANSHOT_MIDI_TOKEN_BASE 4611686018427387904 /* 2^62: a voice token >= this is a MIDI note's (+ table generation) */
#define GANSHOT_MIDI_PLAYED 1              /* ganshot_midi_message.flags: a note-on the C side played */

/* Why a buffer came back on the finished ring (the mixer no longer reads it). */
enum {
    GANSHOT_FINISHED_ENDED = 1, /* played to its end, or its fade-out ended */
    GANSHOT_FINISHED_CHOKED,    /* faded by a voice of its choke group or a choke command */
    GANSHOT_FINISHED_STOLEN,    /* faded to make room when max_voices were sounding */
    GANSHOT_FINISHED_STOPPED,   /* faded by stop_all (panic) */
    GANSHOT_FINISHED_CANCELLED, /* scheduled, never started: removed by stop_all */
    GANSHOT_FINISHED_DROPPED,   /* never started: no room in the event heap or voice slots */
    GANSHOT_FINISHED_CUT,       /* a fading tail cut short: every slot was busy */
    GANSHOT_FINISHED_RELEASED   /* faded by its note-off release (ganshot_release) */
};

typedef struct ganshot_state ganshot_state; /* opaque to Python */
typedef struct { double inputBufferAdcTime, currentTime, outputBufferDacTime; } ganshot_time_info;
typedef struct { uint64_t token; int32_t reason; } ganshot_finished;
typedef struct {
    int64_t frames_done, max_late_frames, max_callback_ns;
    int64_t max_callback_cpu_ns; /* the audio thread's CPU time in its costliest block (time preempted not counted) */
    uint64_t callbacks, underflows, late_starts, commands_dropped, voices_stolen, finished_overflows;
    uint64_t callback_waits;     /* callbacks in which the audio thread blocked (gave up the CPU, or a major page fault) */
    uint64_t callback_cpu_hist[16]; /* GANSHOT_CPU_HIST_BINS (cdef wants the number): callbacks by CPU per heard block */
    int32_t voices_active, voices_sounding;
    uint64_t limited_frames;   /* frames the master limiter turned down */
    float limiter_gain;        /* its gain at the end of the last block (1: not limiting) */
    float limiter_min_gain;    /* its lowest gain since reset_peaks */
    float peak_in, peak_out;   /* largest |sample| before / after it since reset_peaks */
    uint64_t clock_catch_ups, frames_caught_up; /* the JACK clock lock: lost JACK cycles mixed unheard */
    uint64_t clock_rebases;    /* times it started afresh (server clock jumped, or mixer ahead) */
} ganshot_counters;
typedef struct { int64_t block_start_frame, block_frames; double current_time, dac_time; uint64_t callbacks; } ganshot_clock;
typedef struct {
    int32_t recording, acknowledged; /* acknowledged: off, and the mixer began a block since */
    int64_t first_frame;             /* stream frame of the ring's first frame; -1 before any */
    int64_t capacity_frames, frames_recorded, frames_waiting;
    uint64_t frames_dropped, overflows;
} ganshot_record_info;

/* The JACK MIDI note table (engine/jack_midi.py builds it; see _cmixer_jack.h): MIDI note ->
 * what the mixer plays, at velocity gain 1. Published whole, by one pointer swap. */
typedef struct {
    const float *buffer;    /* NULL: the note is not played here (forwarded to Python) */
    int64_t frames;
    float gain_l, gain_r;   /* pad gain and pan, linear */
    uint32_t choke_group;
    int32_t pad;            /* the pad's index (Python's focus), -1 for none */
} ganshot_note_entry;
typedef struct {
    ganshot_note_entry notes[128];
    float velocity_gain[128]; /* velocity 0..127 -> linear gain (the engine's velocity curve) */
    int32_t channel;          /* 0..15: notes of that MIDI channel only; -1: every channel */
    uint64_t generation;      /* voice tokens of its notes: GANSHOT_MIDI_TOKEN_BASE + generation */
    uint64_t pushed;          /* written by the JACK MIDI thread: notes of this table sent to the mixer */
} ganshot_note_table;
typedef struct ganshot_midi ganshot_midi; /* opaque: the C JACK MIDI client */
typedef struct ganshot_jack_clock ganshot_jack_clock; /* opaque: the JACK clock lock (_cmixer_jack_clock.h) */
typedef struct {
    uint32_t jack_frame;    /* JACK frame time of the message */
    int32_t pad;            /* the pad a played note-on started, else -1 */
    uint32_t size;          /* the message's size in bytes (data holds its first 3) */
    uint32_t flags;         /* GANSHOT_MIDI_PLAYED */
    uint8_t data[4];
} ganshot_midi_message;
typedef struct {
    uint64_t cycles, events, notes_played, notes_forwarded, note_ring_drops, other_ring_drops, garbage;
    uint64_t notes_scheduled, notes_late; /* the mixer's side: notes taken from the ring, and started late */
    int64_t max_late_frames;
    int64_t mixer_minus_jack;             /* mixer frame - JACK frame at the start of the last cycle mixed */
    uint32_t period_frames, max_events_per_cycle;
    int32_t active, shut_down;            /* the JACK client runs; the server shut it down */
    uint64_t cycles_missed;               /* JACK cycles that ran without this client (their MIDI never reached it) */
} ganshot_midi_counters;

/* setup and commands: Python threads (one producer at a time) */
ganshot_state *ganshot_create(double sample_rate, int32_t max_voices, int32_t queue_size);
void ganshot_destroy(ganshot_state *s);
int64_t ganshot_finished_capacity(const ganshot_state *s);
int ganshot_play(ganshot_state *s, uint64_t token, const float *buffer, int64_t frames,
                 float gain_l, float gain_r, int64_t start_frame, uint32_t choke_group);
int ganshot_choke(ganshot_state *s, uint32_t group, int64_t at_frame);
/* note-off: the voice of ``token`` fades out linearly over release_frames (1..MAX_RELEASE_FRAMES)
 * from exactly at_frame (a voice not sounding then, or never started, is left alone) */
int ganshot_release(ganshot_state *s, uint64_t token, int64_t at_frame, int32_t release_frames);
int ganshot_stop_all(ganshot_state *s);
int ganshot_set_master_gain(ganshot_state *s, float gain);
int ganshot_set_limiter_ceiling(ganshot_state *s, float ceiling); /* linear, (0, 1] */
int32_t ganshot_pop_finished(ganshot_state *s, ganshot_finished *out, int32_t max_items);

/* mixing: the audio thread (PortAudio callback) or an offline render, never both */
void ganshot_mix(ganshot_state *s, float *out, int64_t frames);
int ganshot_callback(const void *input, void *output, unsigned long frame_count,
                     const ganshot_time_info *time_info, unsigned long status_flags, void *user_data);

/* state, readable from any Python thread */
int64_t ganshot_frame(const ganshot_state *s);
void ganshot_read_counters(ganshot_state *s, ganshot_counters *c);
void ganshot_reset_peaks(ganshot_state *s);
int ganshot_read_clock(ganshot_state *s, ganshot_clock *c);

/* record tap (handshake: see _cmixer.c's header comment) */
int ganshot_record_start(ganshot_state *s, int64_t capacity_frames);
void ganshot_record_stop(ganshot_state *s);
int ganshot_record_acknowledged(ganshot_state *s);
int ganshot_record_free(ganshot_state *s, int nobody_mixes);
int64_t ganshot_record_waiting(ganshot_state *s);
int64_t ganshot_record_read(ganshot_state *s, float *out, int64_t max_frames);
void ganshot_record_info_read(ganshot_state *s, ganshot_record_info *r);

/* JACK MIDI input owned by C (libjack is loaded at run time: see _cmixer_jack.h). Python
 * threads, one at a time; the process callback and the mixer never wait for them. */
int ganshot_jack_available(char *why, int32_t why_size);          /* 1, or 0 with the reason in why */
ganshot_midi *ganshot_midi_open(ganshot_state *s, const char *client_name, const char *port_name,
                                char *why, int32_t why_size);
void ganshot_midi_detach(ganshot_midi *m);   /* the mixer stops reading it from its next callback */
void ganshot_midi_close(ganshot_midi *m);    /* after detach and two mixer callbacks (or none mixing) */
void ganshot_midi_publish(ganshot_midi *m, ganshot_note_table *table); /* NULL: no notes played in C */
uint64_t ganshot_midi_cycles(ganshot_midi *m);
uint64_t ganshot_note_table_pushed(const ganshot_note_table *table);
int32_t ganshot_midi_pop(ganshot_midi *m, ganshot_midi_message *out, int32_t max_items);
void ganshot_midi_read_counters(ganshot_midi *m, ganshot_midi_counters *c);
int ganshot_midi_port_name(ganshot_midi *m, char *out, int32_t size);
int ganshot_midi_connect(ganshot_midi *m, const char *source_port, int connect); /* 0 ok, else JACK's error */
int32_t ganshot_midi_sources(ganshot_midi *m, char *out, int32_t size); /* MIDI outputs, '\n'-separated; -1: too long */
/* tests: what the process callback does with one message of a cycle starting at cycle_frame */
void ganshot_midi_inject(ganshot_midi *m, uint32_t cycle_frame, uint32_t offset, uint32_t period,
                         const uint8_t *data, uint32_t size);
ganshot_midi *ganshot_midi_fake(ganshot_state *s); /* no JACK: a ring and table for ganshot_midi_inject */
void ganshot_midi_fake_cycle(ganshot_midi *m, uint32_t cycle_frame); /* the mixer's next block starts this JACK cycle */

/* The JACK clock lock (see _cmixer_jack_clock.h): open it beside a stream on JACK; close it after
 * detach and two mixer callbacks (or none mixing). The fake has no JACK: tests set its clock. */
ganshot_jack_clock *ganshot_jack_clock_open(ganshot_state *s, const char *client_name, char *why, int32_t why_size);
ganshot_jack_clock *ganshot_jack_clock_fake(ganshot_state *s, uint32_t period);
void ganshot_jack_clock_fake_cycle(ganshot_jack_clock *c, uint32_t cycle_frame); /* the next callback runs in this cycle */
void ganshot_jack_clock_detach(ganshot_state *s, ganshot_jack_clock *c);
void ganshot_jack_clock_close(ganshot_jack_clock *c);
