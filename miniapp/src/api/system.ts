import { http } from './http';
import type { JsConfig, ServerTime } from './types';

export const getServerTime = (): Promise<ServerTime> => http.get<ServerTime>('/time', { timeoutMs: 5_000 });

export const getJsConfig = (url: string): Promise<JsConfig> => http.get<JsConfig>('/wechat/js-config', { query: { url } });
