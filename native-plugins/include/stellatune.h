/* stellatune.h — includes the whole StellaTune plugin ABI (version 9). */
#ifndef STELLATUNE_H
#define STELLATUNE_H

#include "stellatune/async_op.h"
#include "stellatune/config.h"
#include "stellatune/decoder.h"
#include "stellatune/dsp.h"
#include "stellatune/lyrics.h"
#include "stellatune/output.h"
#include "stellatune/plugin.h"
#include "stellatune/source.h"
#include "stellatune/stream.h"
#include "stellatune/threads.h"
#include "stellatune/types.h"

#endif /* STELLATUNE_H */
