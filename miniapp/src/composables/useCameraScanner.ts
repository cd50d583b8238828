// The phone camera as a QR scanner outside WeChat: getUserMedia frames
// decoded with jsQR a few times a second.

import { onBeforeUnmount, ref, type Ref } from 'vue';
import { decodeImageData, loadJsQR } from '../lib/qr';

export type CameraState = 'idle' | 'starting' | 'scanning' | 'denied' | 'unavailable' | 'error';

const FRAME_INTERVAL_MS = 200;
const MAX_SIDE = 640;

export function useCameraScanner(video: Ref<HTMLVideoElement | null>, onResult: (text: string) => void) {
  const state = ref<CameraState>('idle');
  let stream: MediaStream | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let canvas: HTMLCanvasElement | null = null;

  const stop = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    if (video.value) video.value.srcObject = null;
    if (state.value === 'scanning' || state.value === 'starting') state.value = 'idle';
  };

  const frame = async (): Promise<void> => {
    timer = null;
    const v = video.value;
    if (!stream || !v || state.value !== 'scanning') return;
    if (v.readyState >= 2 && v.videoWidth > 0) {
      const scale = Math.min(1, MAX_SIDE / Math.max(v.videoWidth, v.videoHeight));
      const w = Math.round(v.videoWidth * scale);
      const h = Math.round(v.videoHeight * scale);
      canvas ??= document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (ctx) {
        ctx.drawImage(v, 0, 0, w, h);
        const text = await decodeImageData(ctx.getImageData(0, 0, w, h));
        if (text && state.value === 'scanning') {
          stop();
          onResult(text);
          return;
        }
      }
    }
    if (state.value === 'scanning') timer = setTimeout(() => void frame(), FRAME_INTERVAL_MS);
  };

  const start = async (): Promise<void> => {
    if (!navigator.mediaDevices?.getUserMedia) {
      state.value = 'unavailable';
      return;
    }
    state.value = 'starting';
    try {
      await loadJsQR();
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
      const v = video.value;
      if (!v) throw new Error('camera: no video element');
      v.srcObject = stream;
      v.setAttribute('playsinline', '');
      v.muted = true;
      await v.play();
      const caps = stream.getVideoTracks()[0]?.getCapabilities?.() as { torch?: boolean } | undefined;
      torchSupported.value = caps?.torch === true;
      torch.value = false;
      state.value = 'scanning';
      void frame();
    } catch (e) {
      stop();
      const name = e instanceof DOMException ? e.name : '';
      state.value =
        name === 'NotAllowedError' || name === 'SecurityError'
          ? 'denied'
          : name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError'
            ? 'unavailable'
            : 'error';
    }
  };

  const torch = ref(false);
  /** torchSupported: the camera track offers a torch (most Android phones; not iOS Safari). */
  const torchSupported = ref(false);
  const setTorch = async (on: boolean): Promise<void> => {
    const track = stream?.getVideoTracks()[0];
    if (!track) return;
    try {
      await track.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
      torch.value = on;
    } catch {
      torchSupported.value = false;
    }
  };

  onBeforeUnmount(stop);
  return { state, start, stop, torch, torchSupported, toggleTorch: () => setTorch(!torch.value) };
}
