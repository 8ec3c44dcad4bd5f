/*
 * stellatune/threads.h — the thread tags used on every function of the plugin ABI.
 *
 * Each function-pointer comment in the StellaTune headers ends with one of these tags. They are
 * the contract about *who* may call a function and *what* it may do while running. They are
 * modelled on CLAP's thread specifications.
 *
 *   [control]
 *       Called by the host's control side (the main process's event loop, or a host worker it
 *       dedicates to boundary calls). Calls on one instance are serialised. May allocate and
 *       take locks, but must return promptly: a control call that can take longer than a few
 *       milliseconds (network, disk scans) must be an async op (see async_op.h) instead.
 *
 *   [decode-thread]
 *       Called from the host's decode worker. Calls on one instance are serialised. May block
 *       on I/O (a network stream read is allowed to wait for bytes), but must honour the
 *       timeouts documented on the function.
 *
 *   [decode-thread & realtime]
 *       Called from the decode worker on the path that feeds the audio ring. Realtime means:
 *       no allocation, no locks that the control side can hold, no I/O waits, no logging.
 *
 *   [output-thread & realtime]
 *       Called from the audio process's output loop. Same realtime rules.
 *
 *   [any-thread]
 *       May be called from any thread, concurrently with anything else, including from inside
 *       another call of the same object. Must be thread-safe and must not block.
 *
 * A plugin may create threads of its own (the SDK's op workers do). Every such thread must be
 * joined by the module's shutdown function (plugin.h): the host unloads the library right after
 * shutdown returns, and code still running in an unloaded library crashes the process.
 */
#ifndef STELLATUNE_THREADS_H
#define STELLATUNE_THREADS_H

/* The tags are documentation only; these macros let tools grep for them. */
#define ST_THREAD_CONTROL "[control]"
#define ST_THREAD_DECODE "[decode-thread]"
#define ST_THREAD_DECODE_RT "[decode-thread & realtime]"
#define ST_THREAD_OUTPUT_RT "[output-thread & realtime]"
#define ST_THREAD_ANY "[any-thread]"

#endif /* STELLATUNE_THREADS_H */
