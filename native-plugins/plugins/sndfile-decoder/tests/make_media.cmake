# Generates the test media and the reference decodes for the sndfile-decoder tests into ${OUT}.
# Run by ctest as the `sndfile_decoder.media` fixture:
#   cmake -DFFMPEG=<ffmpeg> -DSOX=<sox> -DOUT=<dir> -P make_media.cmake
# Sources are synthesised (sweeps + pink noise) so nothing binary is committed. The references are
# ffmpeg's own decodes to raw float32 little-endian (<file>.f32), the format read_f32 produces.
cmake_minimum_required(VERSION 3.20)
file(MAKE_DIRECTORY ${OUT})

function(run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${OUT} RESULT_VARIABLE rc
                  OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${err}")
  endif()
endfunction()

set(ff ${FFMPEG} -nostdin -v error -y)
set(tags -metadata "title=Tëst Title" -metadata "artist=The Artist" -metadata "album=An Album"
         -metadata track=7 -metadata date=2021 -metadata genre=Jazz)

# PCM sources.
run(${SOX} -n -r 44100 -c 2 -b 16 src16.wav synth 4 sine 60-12000 sine 9000-200
    synth 4 pinknoise mix gain -4)
run(${SOX} -n -r 48000 -c 6 -b 24 s24_6ch.wav synth 2 sine 100 sine 200 sine 300 sine 400
    sine 500 pinknoise gain -3)
run(${SOX} -n -r 44100 -c 2 -e floating-point -b 32 f32.wav synth 2 sine 440 pinknoise gain -2)
run(${SOX} -n -r 22050 -c 1 -e unsigned-integer -b 8 u8_mono.wav synth 2 sine 300-3000 gain -3)
run(${SOX} src16.wav a.aiff)
run(${SOX} src16.wav a.w64)
run(${ff} -i src16.wav -c:a pcm_s16be -f caf a.caf)

# Lossless compressed.
run(${ff} -i src16.wav ${tags} a.flac)
run(${SOX} -n -r 96000 -c 1 -b 24 b24.flac synth 3 sine 50-20000 synth 3 pinknoise mix gain -6)

# Lossy.
run(${ff} -i src16.wav ${tags} -c:a libmp3lame -b:a 192k a.mp3)
run(${ff} -i src16.wav -c:a libmp3lame -q:a 2 vbr.mp3)
run(${ff} -i src16.wav ${tags} -c:a libvorbis -q:a 5 a.ogg)
run(${ff} -i src16.wav ${tags} -c:a libopus -b:a 128k a.opus)
run(${SOX} -n -r 22050 -c 1 -b 16 mono22.wav synth 9 sine 100-8000 synth 9 pinknoise mix gain -4)
run(${ff} -i mono22.wav -c:a libvorbis -q:a 0 mono22.ogg)

# References: ffmpeg's decode as float32 LE. Opus through libopus with float output (what
# libsndfile uses); Vorbis through ffmpeg's native float decoder (ffmpeg's libvorbis wrapper only
# outputs 16-bit); MP3 through ffmpeg's mp3float (libsndfile uses mpg123). Hence the per-codec
# tolerances in the lossy test.
foreach(f src16.wav s24_6ch.wav f32.wav u8_mono.wav a.aiff a.w64 a.caf a.flac b24.flac a.mp3
          vbr.mp3)
  run(${ff} -i ${f} -f f32le -c:a pcm_f32le ${f}.f32)
endforeach()
run(${ff} -i a.ogg -f f32le -c:a pcm_f32le a.ogg.f32)
run(${ff} -i mono22.ogg -f f32le -c:a pcm_f32le mono22.ogg.f32)
run(${ff} -request_sample_fmt flt -c:a libopus -i a.opus -f f32le -c:a pcm_f32le a.opus.f32)
