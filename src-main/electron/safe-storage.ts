// Electron's safeStorage as the secret store's cipher: the plugin secret files are sealed with a
// key the OS keeps (Keychain, DPAPI, the Secret Service or KWallet on Linux). Thin and typed: the
// core only sees a SecretCipher and never imports electron.
import { safeStorage } from 'electron';
import type { SecretCipher } from '../control/secret-store.js';

/** The cipher, or null where safeStorage protects nothing (call after app 'ready'). */
export function safeStorageCipher(): SecretCipher | null {
  if (!safeStorage.isEncryptionAvailable()) return null;
  // Linux without a keyring: Electron falls back to a hard-coded key ("basic_text"), no better
  // than a plain 0600 file; the core then tries the Secret Service itself.
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return null;
  return {
    name: 'Electron safeStorage',
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (sealed) => safeStorage.decryptString(sealed),
  };
}
