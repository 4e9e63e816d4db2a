/**
 * Popular real domain names for background DNS. The npm package `top-sites` (500 domains, MIT)
 * was considered, but it installs a scraper's runtime dependencies (cheerio, got, lodash, ...) for
 * one JSON list, so this short built-in list is used instead: widely used global services and
 * the large Japanese portals, shops, media, banks and carriers, with a rough popularity weight
 * (relative query share; Zipf-like). The generator never resolves or contacts these names.
 */

/** A popular domain and its relative share of queries. */
export interface PopularDomain {
  name: string;
  weight: number;
  /** Subdomains commonly queried under it ('' = the apex). */
  labels: readonly string[];
  /** Typical TTL of its answers, seconds. */
  ttl: number;
}

const WEB = ['www', '', 'api', 'static', 'img', 'cdn'] as const;

const D = (name: string, weight: number, ttl = 300, labels: readonly string[] = WEB): PopularDomain => ({
  name,
  weight,
  labels,
  ttl,
});

/** The list, most popular first. */
export const POPULAR_DOMAINS: readonly PopularDomain[] = [
  D('google.com', 100, 300, ['www', 'accounts', 'mail', 'apis', 'play', 'clients4', 'ssl']),
  D('googleapis.com', 60, 300, ['fonts', 'www', 'storage', 'firebaseinstallations', 'android']),
  D('gstatic.com', 55, 300, ['www', 'fonts', 'ssl', 'encrypted-tbn0']),
  D('youtube.com', 70, 300, ['www', 'm', 'i', 'music']),
  D('googlevideo.com', 50, 1800, ['rr1---sn-ogueln7k', 'rr2---sn-3pm7dn7s', 'rr4---sn-oguesn6s']),
  D('yahoo.co.jp', 65, 60, ['www', 'news', 's', 'shopping', 'weather', 'search', 'auctions']),
  D('yimg.jp', 40, 300, ['s', 'msp', 'news-pctr']),
  D('line.me', 55, 60, ['obs', 'gw', 'legy', 'access']),
  D('line-scdn.net', 35, 300, ['obs', 'stickershop', 'profile']),
  D('apple.com', 45, 300, ['www', 'gsp-ssl', 'configuration', 'mesu', 'swcdn', 'push']),
  D('icloud.com', 35, 300, ['www', 'p53-contacts', 'gateway', 'setup']),
  D('microsoft.com', 40, 3600, ['www', 'login', 'update', 'go', 'settings-win']),
  D('windowsupdate.com', 20, 3600, ['ctldl', 'download', 'au']),
  D('office.com', 25, 300, ['www', 'outlook', 'substrate']),
  D('live.com', 20, 300, ['login', 'outlook', 'onedrive']),
  D('amazon.co.jp', 40, 60, ['www', 'images-fe', 'fls-fe']),
  D('amazonaws.com', 45, 60, ['s3', 'dynamodb.ap-northeast-1', 'ec2.ap-northeast-1', 'sqs.ap-northeast-1']),
  D('cloudfront.net', 40, 60, ['d1a2b3c4d5e6f7', 'd3k8z9w0y1x2', 'dz4mxgcl81ilv']),
  D('facebook.com', 30, 300, ['www', 'graph', 'edge-mqtt', 'static.xx']),
  D('instagram.com', 35, 300, ['www', 'i', 'graph', 'scontent-nrt1-1']),
  D('x.com', 30, 300, ['www', 'api', 'abs', 'pbs']),
  D('twitter.com', 20, 300, ['www', 'api', 'abs']),
  D('rakuten.co.jp', 35, 60, ['www', 'item', 'search', 'books', 'travel']),
  D('rakuten.ne.jp', 10, 300),
  D('netflix.com', 25, 300, ['www', 'api-global', 'ichnaea', 'occ-0-2218-64']),
  D('nflxvideo.net', 20, 300, ['ipv4-c001-tyo001-ix', 'ipv4-c012-osa001-ix']),
  D('tiktok.com', 25, 60, ['www', 'm', 'api16-normal-c-useast1a']),
  D('tiktokcdn.com', 20, 60, ['p16-sign-va', 'v16-webapp-prime']),
  D('nicovideo.jp', 15, 300, ['www', 'live', 'sp', 'public']),
  D('abema.tv', 12, 60, ['www', 'api', 'ds-linear-abematv']),
  D('tver.jp', 10, 60, ['www', 'platform-api', 'statics']),
  D('nhk.or.jp', 15, 300, ['www', 'www3', 'plus']),
  D('nikkei.com', 10, 300, ['www', 'assets', 'id']),
  D('asahi.com', 8, 300),
  D('yomiuri.co.jp', 8, 300),
  D('mainichi.jp', 6, 300),
  D('livedoor.com', 8, 300, ['news', 'blog', 'www']),
  D('ameblo.jp', 10, 300, ['www', 'stat100', 'blog']),
  D('goo.ne.jp', 8, 300, ['www', 'news', 'search']),
  D('docomo.ne.jp', 12, 300, ['www', 'smt', 'id', 'service']),
  D('au.com', 10, 300, ['www', 'id', 'connect']),
  D('softbank.jp', 10, 300, ['www', 'my', 'mb']),
  D('mercari.com', 15, 60, ['jp', 'api', 'static']),
  D('zozo.jp', 6, 300, ['zozo.jp', 'c', 'o']),
  D('kakaku.com', 6, 300),
  D('tabelog.com', 6, 300),
  D('cookpad.com', 6, 300),
  D('pixiv.net', 10, 300, ['www', 'i', 'embed']),
  D('dmm.com', 10, 300, ['www', 'pics', 'api']),
  D('hatena.ne.jp', 6, 300, ['b', 'www', 'anond']),
  D('jorudan.co.jp', 4, 300),
  D('navitime.co.jp', 4, 300),
  D('jal.co.jp', 3, 300),
  D('ana.co.jp', 3, 300),
  D('jreast.co.jp', 4, 300),
  D('smbc.co.jp', 4, 60, ['www', 'direct', 'ib']),
  D('mufg.jp', 4, 60, ['www', 'direct', 'entry11']),
  D('mizuhobank.co.jp', 3, 60, ['www', 'web', 'ib']),
  D('japanpost.jp', 4, 300),
  D('paypay.ne.jp', 10, 60, ['www', 'api', 'image']),
  D('go.jp', 3, 3600, ['www.mhlw', 'www.digital', 'www.nta', 'www.soumu', 'www.jma']),
  D('wikipedia.org', 12, 300, ['ja', 'en', 'upload']),
  D('github.com', 10, 60, ['www', 'api', 'codeload', 'objects']),
  D('githubusercontent.com', 8, 300, ['raw', 'avatars', 'objects']),
  D('zoom.us', 10, 60, ['www', 'us05web', 'zoomjp']),
  D('slack.com', 8, 60, ['app', 'wss-primary', 'edgeapi']),
  D('spotify.com', 8, 300, ['www', 'api', 'apresolve', 'spclient.wg']),
  D('dropbox.com', 6, 300, ['www', 'client', 'bolt']),
  D('adobe.com', 6, 300, ['www', 'ims-na1', 'cc-api-data']),
  D('doubleclick.net', 30, 60, ['securepubads.g', 'ad', 'stats.g', 'googleads.g']),
  D('googlesyndication.com', 25, 60, ['pagead2', 'tpc']),
  D('google-analytics.com', 25, 300, ['www', 'region1']),
  D('googletagmanager.com', 20, 300, ['www']),
  D('criteo.com', 6, 300, ['static', 'gum', 'bidder']),
  D('akamaihd.net', 15, 20, ['a248.e', 'fbcdn-profile-a', 'static']),
  D('akamaized.net', 15, 20, ['vod-akc-as-ne', 'playready', 'static']),
  D('fastly.net', 10, 30, ['global.ssl', 'dualstack.f2', 'nytimes.map']),
  D('cloudflare.com', 12, 300, ['www', 'cdnjs', 'speed', 'one.one.one']),
  D('jsdelivr.net', 6, 300, ['cdn', 'data']),
  D('ntp.org', 4, 150, ['pool', 'jp.pool', '0.pool', '1.pool']),
  D('nict.go.jp', 3, 300, ['ntp', 'jjy']),
  D('steampowered.com', 5, 60, ['store', 'api', 'cdn.cloudflare']),
  D('playstation.net', 5, 60, ['np', 'gs2.ww.prod.dl', 'auth.api.np.ac']),
  D('nintendo.net', 5, 60, ['atum', 'ctest', 'aqua']),
  D('epicgames.com', 4, 60, ['www', 'launcher-public-service-prod06', 'datarouter']),
  D('openai.com', 8, 60, ['chat', 'api', 'cdn']),
  D('chatgpt.com', 8, 60, ['www', 'ab']),
];
