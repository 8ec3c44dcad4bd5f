// Lists the audio devices through the cross-built naudiodon addon under Windows Node (Wine):
// fails unless Windows' host APIs (MME, WASAPI) each offer at least one output device. Under
// Wine they reach the PulseAudio null sink through winepulse.
//   node naudiodon-devices.mjs <naudiodon.node>
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)(process.argv[2]);
const devices = addon.getDevices();
const outputs = devices.filter((d) => d.maxOutputChannels > 0);
for (const d of outputs) {
  console.log(`  ${d.hostAPIName.padEnd(16)} #${d.id} ${d.name}: ${d.maxOutputChannels} ch, ${d.defaultSampleRate} Hz`);
}
const missing = ['MME', 'Windows WASAPI'].filter((api) => !outputs.some((d) => d.hostAPIName === api));
if (missing.length > 0) {
  console.log(`no output device on ${missing.join(', ')} (of ${devices.length} devices)`);
  process.exit(1);
}
console.log(`${outputs.length} output devices of ${devices.length}`);
