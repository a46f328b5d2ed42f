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
#define GANSHOT_ASAP -1                    /* start frame: the first frame of the next mixed block */
#define GANSHOT_MAX_VOICES_LIMIT 1024
#define GANSHOT_MAX_QUEUE 1048576
#define GANSHOT_MAX_RECORD_FRAMES 16777216 /* 2^24: 128 MiB of stereo float32 at most */
#define GANSHOT_LIMITER_RELEASE_MS 80      /* the master limiter's gain recovers with this time constant */

/* Why a buffer came back on the finished ring (the mixer no longer reads it). */
enum {
    GANSHOT_FINISHED_ENDED = 1, /* played to its end, or its fade-out ended */
    GANSHOT_FINISHED_CHOKED,    /* faded by a voice of its choke group or a choke command */
    GANSHOT_FINISHED_STOLEN,    /* faded to make room when max_voices were sounding */
    GANSHOT_FINISHED_STOPPED,   /* faded by stop_all (panic) */
    GANSHOT_FINISHED_CANCELLED, /* scheduled, never started: removed by stop_all */
    GANSHOT_FINISHED_DROPPED,   /* never started: no room in the event heap or voice slots */
    GANSHOT_FINISHED_CUT        /* a fading tail cut short: every slot was busy */
};

typedef struct ganshot_state ganshot_state; /* opaque to Python */
typedef struct { double inputBufferAdcTime, currentTime, outputBufferDacTime; } ganshot_time_info;
typedef struct { uint64_t token; int32_t reason; } ganshot_finished;
typedef struct {
    int64_t frames_done, max_late_frames, max_callback_ns;
    uint64_t callbacks, underflows, late_starts, commands_dropped, voices_stolen, finished_overflows;
    int32_t voices_active, voices_sounding;
    uint64_t limited_frames;   /* frames the master limiter turned down */
    float limiter_gain;        /* its gain at the end of the last block (1: not limiting) */
    float limiter_min_gain;    /* its lowest gain since reset_peaks */
    float peak_in, peak_out;   /* largest |sample| before / after it since reset_peaks */
} ganshot_counters;
typedef struct { int64_t block_start_frame, block_frames; double current_time, dac_time; uint64_t callbacks; } ganshot_clock;
typedef struct {
    int32_t recording, acknowledged; /* acknowledged: off, and the mixer began a block since */
    int64_t first_frame;             /* stream frame of the ring's first frame; -1 before any */
    int64_t capacity_frames, frames_recorded, frames_waiting;
    uint64_t frames_dropped, overflows;
} ganshot_record_info;

/* setup and commands: Python threads (one producer at a time) */
ganshot_state *ganshot_create(double sample_rate, int32_t max_voices, int32_t queue_size);
void ganshot_destroy(ganshot_state *s);
int64_t ganshot_finished_capacity(const ganshot_state *s);
int ganshot_play(ganshot_state *s, uint64_t token, const float *buffer, int64_t frames,
                 float gain_l, float gain_r, int64_t start_frame, uint32_t choke_group);
int ganshot_choke(ganshot_state *s, uint32_t group, int64_t at_frame);
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
