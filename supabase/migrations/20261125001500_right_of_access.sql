-- Everything held about one person, for a right-of-access request (GDPR Article 15): the
-- contact, where the address was found and when, the campaigns they are in, every message
-- written to them and its state, and their opt-outs. SECURITY INVOKER: a member sees only their
-- organization's data, through the same grants and row level security as any read.
CREATE OR REPLACE FUNCTION public.contact_data(organization_id uuid, email text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
    'contact', to_jsonb(ct) - 'organization_id',
    'found_on', ct.extra_data ->> 'source_url',
    'found_at', ct.created_at,
    'campaigns', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'campaign_id', cc.campaign_id, 'enrolled_at', cc.created_at, 'status', cc.status)), '[]')
                  FROM public.campaign_contacts cc WHERE cc.contact_id = ct.id),
    'messages', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'campaign_id', f.campaign_id, 'step', f.sequence_order, 'status', f.status,
                   'subject', f.subject, 'body', f.body, 'scheduled_send_time', f.scheduled_send_time,
                   'sent_at', f.sent_at) ORDER BY f.campaign_id, f.sequence_order), '[]')
                 FROM public.outreach_flows f WHERE f.contact_id = ct.id),
    'campaign_unsubscribes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'campaign_id', u.campaign_id, 'at', u.unsubscribed_at, 'reason', u.reason)), '[]')
                              FROM public.campaign_unsubscribes u WHERE u.contact_id = ct.id)
  )), '[]')
  FROM public.contacts ct
  WHERE ct.organization_id = contact_data.organization_id AND lower(ct.email) = lower(btrim(contact_data.email))
$$;
REVOKE ALL ON FUNCTION public.contact_data(uuid, text) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.contact_data(uuid, text) TO authenticated, service_role;
