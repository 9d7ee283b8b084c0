// Preloaded into netlify-cli (NODE_OPTIONS=--require) by the tests: the extension API
// that @netlify/config fetches (https://api.netlifysdk.com, lib/api/site_info.js,
// getExtensions) is reached at the fake instead (DRILL_NETLIFY_SDK_URL), as a hosts-file
// entry would do. Nothing else is changed: every other request goes where the CLI sends it.
'use strict'
const target = process.env.DRILL_NETLIFY_SDK_URL
const origin = 'https://api.netlifysdk.com'
const realFetch = globalThis.fetch
if (target && realFetch) {
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    if (typeof url === 'string' && url.startsWith(origin + '/')) {
      return realFetch(target + url.slice(origin.length), init)
    }
    return realFetch(input, init)
  }
}
