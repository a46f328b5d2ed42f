"""CFFI build script for ``ganshot.engine._cmixer`` (API mode, compiled at install time).

setup.py names it in ``cffi_modules``, so ``pip install -e .`` and wheel builds compile
``engine/_cmixer.c`` into ``ganshot/engine/_cmixer.*.so``. No PortAudio headers are
needed: the stream callback's signature is declared here (PaStreamCallbackTimeInfo is
three doubles, the status flags an unsigned long).

Rebuild by hand: ``.venv/bin/pip install -e .`` (or ``python engine/_mixer_build.py``,
which writes the module into the current folder).
"""

import os
from pathlib import Path

from cffi import FFI

CDEF = """
typedef struct ganshot_state ganshot_state;
typedef struct { double inputBufferAdcTime, currentTime, outputBufferDacTime; } ganshot_time_info;
typedef struct { uint64_t token; int32_t pad; int32_t reason; } ganshot_finished;
typedef struct {
    int64_t frames_done, max_late_frames, max_callback_ns;
    uint64_t callbacks, underflows, late_starts, commands_dropped, voices_stolen, finished_overflows;
    int32_t voices_active, voices_sounding;
} ganshot_counters;
typedef struct { int64_t block_start_frame, block_frames; double current_time, dac_time; uint64_t callbacks; } ganshot_clock;
typedef struct {
    int32_t recording, acknowledged;
    int64_t first_frame;
    int64_t capacity_frames, frames_recorded, frames_waiting;
    uint64_t frames_dropped, overflows;
} ganshot_record_info;

#define GANSHOT_CHANNELS ...
#define GANSHOT_FADE_FRAMES ...
#define GANSHOT_ASAP ...
#define GANSHOT_MAX_VOICES_LIMIT ...
#define GANSHOT_MAX_QUEUE ...
#define GANSHOT_MAX_RECORD_FRAMES ...
#define GANSHOT_ENDED ...
#define GANSHOT_CHOKED ...
#define GANSHOT_STOLEN ...
#define GANSHOT_STOPPED ...
#define GANSHOT_CANCELLED ...
#define GANSHOT_DROPPED ...
#define GANSHOT_CUT ...

ganshot_state *ganshot_create(double sample_rate, int32_t max_voices, int32_t queue_size);
void ganshot_destroy(ganshot_state *s);
int64_t ganshot_finished_capacity(const ganshot_state *s);
int ganshot_play(ganshot_state *s, uint64_t token, const float *buffer, int64_t frames,
                 float gain_l, float gain_r, int64_t start_frame, uint32_t choke_group, int32_t pad);
int ganshot_choke(ganshot_state *s, uint32_t group, int64_t at_frame);
int ganshot_stop_all(ganshot_state *s);
int ganshot_set_master_gain(ganshot_state *s, float gain);
int32_t ganshot_pop_finished(ganshot_state *s, ganshot_finished *out, int32_t max_items);
void ganshot_mix(ganshot_state *s, float *out, int64_t frames);
int ganshot_callback(const void *input, void *output, unsigned long frame_count,
                     const ganshot_time_info *time_info, unsigned long status_flags, void *user_data);
int64_t ganshot_frame(const ganshot_state *s);
void ganshot_read_counters(ganshot_state *s, ganshot_counters *c);
void ganshot_reset_peaks(ganshot_state *s);
int ganshot_read_clock(ganshot_state *s, ganshot_clock *c);
int ganshot_record_start(ganshot_state *s, int64_t capacity_frames);
void ganshot_record_stop(ganshot_state *s);
int ganshot_record_acknowledged(ganshot_state *s);
int ganshot_record_free(ganshot_state *s, int nobody_mixes);
int64_t ganshot_record_waiting(ganshot_state *s);
int64_t ganshot_record_read(ganshot_state *s, float *out, int64_t max_frames);
void ganshot_record_info_read(ganshot_state *s, ganshot_record_info *r);
"""

_HERE = Path(__file__).resolve().parent  # _cmixer.c includes _cmixer_state.h from here

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "ganshot.engine._cmixer",
    (_HERE / "_cmixer.c").read_text(encoding="utf-8"),
    include_dirs=[str(_HERE)],
    # relative to setup.py (the build's cwd), so setuptools rebuilds when the header changes
    depends=[os.path.relpath(_HERE / name) for name in ("_cmixer.c", "_cmixer_state.h")],
    # No FMA contraction: every block size must give the same floats.
    extra_compile_args=["-std=c11", "-O2", "-ffp-contract=off"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
