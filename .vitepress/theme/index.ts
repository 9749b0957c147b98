import type { Theme } from 'vitepress'
import DefaultTheme from 'vitepress/theme'
import TwoslashFloatingVue from '@shikijs/vitepress-twoslash/client'
import '@shikijs/vitepress-twoslash/style.css'
import './book.css'
import ClaimsLedger from './ClaimsLedger.vue'
import ClaimsSummary from './ClaimsSummary.vue'
import PerfBars from './PerfBars.vue'

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.use(TwoslashFloatingVue)
    app.component('ClaimsLedger', ClaimsLedger)
    app.component('ClaimsSummary', ClaimsSummary)
    app.component('PerfBars', PerfBars)
  },
} satisfies Theme
